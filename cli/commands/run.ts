// `crabbox run [options] -- <command...>`: the workflow CI jobs and agents live in. Acquire a
// lease (or use --lease), ship the working tree with rsync over the lease's SSH, run the command
// with its output streamed and the lease kept alive, exit with its status, and give the lease
// back per --stop-after. Every exit path (success, failure, Ctrl-C, SIGTERM) ends with the lease
// released or with the exact command to release it printed.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { resolve } from "node:path";
import type { Lease } from "../../src/contract/lease";
import { type Context, defineCommand, durationMs } from "../core/command";
import { CliError, EXIT, usageError } from "../core/errors";
import { keepAlive } from "../core/keepalive";
import { ACQUIRE_OPTIONS, RELEASE_CONFIRM_MS, acquireLease, acquireTimeoutMs, leaseRequest, usableLease, type AcquireOptions } from "../core/lease-flow";
import { sshArgs } from "../core/ssh";
import { remoteCommand, shipEnvironment, syncTree, type SshTarget, type SyncResult } from "../core/sync";
import { TERMINAL_STATES, waitForState } from "../core/wait";

type StopAfter = "success" | "failure" | "always" | "never";

interface Options extends AcquireOptions {
  lease?: string;
  /** A directory, or false with --no-sync. */
  sync: string | false;
  syncAll?: boolean;
  stopAfter?: StopAfter;
  env?: string[];
  timeout: string;
  sshWait: string;
  json?: boolean;
}

const SERVER_ALIVE_INTERVAL_S = 15;

export default defineCommand<Options>({
  path: "run",
  summary: "lease a machine (or use one), ship the working tree, run a command there, give the lease back",
  args: ["[command...]"],
  json: true,
  options: [
    ...ACQUIRE_OPTIONS,
    { flags: "--lease <lease>", description: "run on this live lease instead of acquiring one (kept afterwards unless --stop-after says otherwise)" },
    { flags: "--sync <dir>", description: "directory to ship (git checkouts: tracked and untracked-not-ignored files)", defaultValue: "." },
    { flags: "--no-sync", description: "ship nothing" },
    { flags: "--sync-all", description: "ship every file, even ones git ignores" },
    { flags: "--stop-after <when>", description: "release after: success, failure, always (default for a lease run acquired) or never (default with --lease)", choices: ["success", "failure", "always", "never"] },
    { flags: "--env <name...>", description: "pass these environment variables to the command (values never logged)" },
  ],
  examples: [
    "crabbox run --provider lambda -- python train.py --epochs 3",
    "crabbox run --lease brave-otter-4k2a --stop-after never -- make test",
    "crabbox run --provider vast --env HF_TOKEN --json -- ./bench.sh",
  ],
  async run(ctx, { args: command, opts }) {
    if (command.length === 0) throw usageError("what should run? `crabbox run [options] -- <command...>`");
    if (!opts.lease && !opts.provider) throw usageError("lease a machine with --provider, or name a live one with --lease");
    const started = Date.now();
    const acquired = !opts.lease;
    const lease = opts.lease ? await usableLease(ctx, opts.lease) : await acquireLease(ctx, leaseRequest(opts), { timeoutMs: acquireTimeoutMs(opts), sshWaitMs: durationMs(opts.sshWait) });
    const acquireMs = Date.now() - started;
    const stopAfter: StopAfter = opts.stopAfter ?? (acquired ? "always" : "never");
    const target: SshTarget = { endpoint: lease.endpoint!, paths: ctx.store.paths(lease.id), hostKeys: ctx.store.hasHostKey(lease.id) ? "yes" : "accept-new" };
    const remoteDir = `crabbox/${lease.slug}`;

    const stopTouching = keepAlive(ctx.client({ signal: null }), lease, ctx.out);
    let exitCode: number | undefined;
    let failure: unknown;
    let sync: SyncResult | undefined;
    let syncMs = 0;
    let commandMs = 0;
    try {
      if (opts.sync !== false) {
        const t = Date.now();
        ctx.out.note(`Shipping ${opts.sync} to ${lease.slug}:${remoteDir}…`);
        sync = await syncTree(target, { dir: resolve(opts.sync), all: opts.syncAll === true, remoteDir, signal: ctx.signal });
        syncMs = Date.now() - t;
      }
      if (opts.env?.length) await shipEnvironment(target, remoteDir, opts.env, ctx.env, ctx.signal);
      const t = Date.now();
      exitCode = await runRemote(target, remoteDir, command, ctx);
      commandMs = Date.now() - t;
    } catch (error) {
      failure = error;
    } finally {
      stopTouching();
    }

    const interrupted = ctx.signal.aborted;
    const succeeded = failure === undefined && !interrupted && exitCode === 0;
    const release = stopAfter === "always" || (stopAfter === "success" && succeeded) || (stopAfter === "failure" && !succeeded);
    const final = release ? await giveBack(ctx, lease) : undefined;
    if (!final || !TERMINAL_STATES.includes(final.state)) {
      ctx.out.note(final ? `Lease ${lease.slug} is ${final.state}.` : `Lease ${lease.slug} is still yours; release it with:\n  crabbox release ${lease.slug}`);
    }
    const summary = {
      lease: { id: lease.id, slug: lease.slug, provider: lease.provider, state: final?.state ?? lease.state },
      exitCode: exitCode ?? null,
      released: final !== undefined && TERMINAL_STATES.includes(final.state),
      durationsMs: { acquire: acquired ? acquireMs : 0, sync: syncMs, command: commandMs },
      sync: sync ?? null,
    };
    // One JSON object either way: the result, or the error carrying the same summary.
    const error = interrupted ? ctx.signal.reason : failure;
    if (error instanceof CliError) throw new CliError(error.message, { code: error.code, exitCode: error.exitCode, details: { ...error.details, run: summary } });
    if (error !== undefined) throw error;
    ctx.out.result(summary, () => []);
    return exitCode ?? EXIT.bug;
  },
});

/**
 * The command over the lease's SSH, output streamed (stdout to stderr under --json, which owns
 * stdout), a pty only when our own stdout is a terminal. Ctrl-C or SIGTERM stops it: ssh closes
 * the session (a pty's processes get SIGHUP) and the lease is then given back per policy.
 */
function runRemote(target: SshTarget, remoteDir: string, command: readonly string[], ctx: Context): Promise<number> {
  const tty = process.stdout.isTTY && !ctx.out.json;
  const args = [tty ? "-t" : "-T", ...sshArgs(target.endpoint, target.paths, target.hostKeys, [["ServerAliveInterval", String(SERVER_ALIVE_INTERVAL_S)]]), remoteCommand(remoteDir, command)];
  return new Promise((resolvePromise, reject) => {
    const child = spawn("ssh", args, { stdio: ["inherit", ctx.out.json ? "pipe" : "inherit", "inherit"] });
    child.stdout?.pipe(process.stderr);
    const stop = () => child.kill("SIGTERM");
    ctx.signal.addEventListener("abort", stop, { once: true });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      ctx.signal.removeEventListener("abort", stop);
      resolvePromise(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}

/** Releases with the lease's own action and waits a while for the coordinator to confirm it. */
async function giveBack(ctx: Context, lease: Lease): Promise<Lease | undefined> {
  const client = ctx.client({ signal: null }); // a Ctrl-C already aborted ctx.signal; the release must still go out
  const progress = ctx.out.progress();
  try {
    progress.update(`Releasing lease ${lease.slug}…`);
    let current = await client.releaseLease(lease.id, {});
    if (!TERMINAL_STATES.includes(current.state) && current.state !== "parked") {
      current = await waitForState(client, lease.id, current.releaseAction === "stop" ? "parked" : "released", { timeoutMs: RELEASE_CONFIRM_MS });
    }
    if (TERMINAL_STATES.includes(current.state)) ctx.store.remove(lease.id);
    progress.done(`Lease ${lease.slug} is ${current.state}.`);
    return current;
  } catch (error) {
    progress.fail(`Could not confirm the release of ${lease.slug}: ${error instanceof Error ? error.message : String(error)}; \`crabbox release ${lease.slug}\` finishes it.`);
    return undefined;
  }
}
