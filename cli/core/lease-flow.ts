// The steps acquire, resume and ssh share: wait until the lease is ready, prove the machine takes
// the lease key over SSH (recording its host key), then acknowledge; and abandoning a lease.
import type { CreateLeaseRequest, Lease } from "../../src/contract/lease";
import { type Context, type OptionDef, dollars, duration, durationMs, keyValues } from "./command";
import { readFileSync } from "node:fs";
import { CliError, EXIT, usageError } from "./errors";
import { mintLeaseId } from "./keys";
import type { Progress } from "./output";
import { probeSsh } from "./ssh";
import { LIVE_ENDPOINT_STATES, TERMINAL_STATES, leaseEndedError, satisfies, waitForState } from "./wait";

/** After Ctrl-C, how long we wait to see the release confirmed before leaving it to the server. */
export const RELEASE_CONFIRM_MS = 60_000;

/** The acquire options `acquire` and `run` share, as the CLI parses them. */
export interface AcquireOptions {
  provider: string;
  type?: string;
  region?: string;
  image?: string;
  ttl?: string;
  idle?: string;
  releaseAction?: "destroy" | "stop";
  maxPrice?: number;
  /** A file: cloud-init document or shell script, run by the machine at boot. */
  userData?: string;
  tailscale?: boolean;
  /** `name=value` template parameters (Coder). */
  param?: string[];
  /** How long to wait in line when no acceptable type has capacity. */
  waitForCapacity?: string;
}

/** The flags behind AcquireOptions, first `--provider`; `acquire` requires it, `run` only without `--lease`. */
export const ACQUIRE_OPTIONS: OptionDef[] = [
  { flags: "--provider <name>", description: "provider to lease from (see `crabbox providers`)" },
  { flags: "--type <type>", description: "machine type (see `crabbox catalog --provider <name>`); several acceptable ones in order: a,b" },
  { flags: "--region <region>", description: "region" },
  { flags: "--image <image>", description: "image, where the provider takes one" },
  { flags: "--ttl <duration>", description: "hard end of the lease, e.g. 2h (server default when omitted)", parse: duration },
  { flags: "--idle <duration>", description: "release after this long without use, e.g. 30m", parse: duration },
  { flags: "--release-action <action>", description: "what release does to the machine", choices: ["destroy", "stop"] },
  { flags: "--max-price <dollars>", description: "most the machine may cost per hour, in $ (marketplaces such as vast)", parse: dollars },
  { flags: "--user-data <file>", description: "a cloud-init document or shell script the machine runs at boot (never stored by the coordinator)" },
  { flags: "--tailscale", description: "join the team's tailnet at boot, named after the lease (the coordinator's key)" },
  { flags: "--param <name=value...>", description: "a template parameter, where machines come from a template (coder), e.g. cpu=4" },
  { flags: "--wait-for-capacity <duration>", description: "wait in line this long when no acceptable type has capacity, e.g. 30m", parse: duration },
  { flags: "--timeout <duration>", description: "how long to wait for the machine (after any wait for capacity)", parse: duration, defaultValue: "20m" },
  { flags: "--ssh-wait <duration>", description: "how long to keep trying SSH once it is ready", parse: duration, defaultValue: "30s" },
];

export function leaseRequest(opts: AcquireOptions): Omit<CreateLeaseRequest, "id" | "sshPublicKey"> {
  return {
    provider: opts.provider,
    type: opts.type?.includes(",") ? opts.type.split(",").map((t) => t.trim()).filter(Boolean) : opts.type,
    waitForCapacity: opts.waitForCapacity,
    region: opts.region,
    image: opts.image,
    ttl: opts.ttl,
    idleTimeout: opts.idle,
    releaseAction: opts.releaseAction,
    maxPricePerHour: opts.maxPrice,
    userData: opts.userData === undefined ? undefined : readUserData(opts.userData),
    tailscale: opts.tailscale || undefined,
    parameters: keyValues(opts.param, "--param", "cpu=4"),
  };
}

function readUserData(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw usageError(`--user-data ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
}

/**
 * Creates a lease with a client-minted id (a retry joins instead of duplicating) and its own key
 * pair (only the public half leaves), waits until it is ready, logs in over SSH, then acks. Any
 * failure on the way (Ctrl-C included) releases what was created before rethrowing.
 */
export async function acquireLease(ctx: Context, request: Omit<CreateLeaseRequest, "id" | "sshPublicKey">, options: BringUpOptions): Promise<Lease> {
  const client = ctx.client();
  const id = mintLeaseId();
  const sshPublicKey = ctx.store.createKeys(id);
  const progress = ctx.out.progress();
  try {
    progress.update(`Requesting a ${request.provider} machine…`);
    const created = await client.createLease({ ...request, id, sshPublicKey });
    ctx.store.saveRecord(created.data);
    if (created.data.releaseAction === "stop") await warnIfStopBills(ctx, created.data.provider);
    const lease = await bringUp(ctx, created.data, progress, options);
    progress.done(`Lease ${lease.slug} is ${lease.state}.`);
    return lease;
  } catch (error) {
    progress.pause();
    await giveUp(ctx, id, error, progress);
    throw error;
  }
}

/**
 * Cleans up after a failed acquire: a lease the server ended, or a create it refused outright, needs
 * only its local keys removed; anything else (Ctrl-C, timeout, SSH failure, lost answer) is released.
 */
async function giveUp(ctx: Context, id: string, error: unknown, progress: Progress): Promise<void> {
  const lease = error instanceof CliError ? (error.details?.lease as Lease | undefined) : undefined;
  const status = error instanceof CliError ? error.details?.status : undefined;
  const refused = typeof status === "number" && status < 500 && !ctx.store.readRecord(id);
  if ((lease && TERMINAL_STATES.includes(lease.state)) || refused) {
    ctx.store.remove(id);
    return;
  }
  await abandon(ctx, id, progress);
}

/** "Lease x queued: 3rd in line for gpu_1x_h100_sxm5, waited 4m". */
export function describeQueued(lease: Lease): string {
  const types = (lease.types ?? [lease.type]).filter(Boolean).join(" or ") || "its type";
  const place = lease.queue?.position ? `${ordinal(lease.queue.position)} in line` : "in line";
  return `Lease ${lease.slug} queued: ${place} for ${types}, waited ${waited(lease.queue?.waitedSeconds ?? 0)}`;
}

/** "42s", "4m", "1h 5m": how long someone has waited, to the unit a person reads. */
function waited(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes}m` : `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th";
  return `${n}${suffix}`;
}

/** The acquire's whole wait: the time in line for capacity, then the machine's own timeout. */
export function acquireTimeoutMs(opts: { timeout: string; waitForCapacity?: string }): number {
  return durationMs(opts.timeout) + (opts.waitForCapacity ? durationMs(opts.waitForCapacity) : 0);
}

export interface BringUpOptions {
  /** How long to wait for the lease to become ready. */
  timeoutMs: number;
  /** How long to keep trying SSH once it is ready. */
  sshWaitMs?: number;
}

export async function bringUp(ctx: Context, lease: Lease, progress: Progress, options: BringUpOptions): Promise<Lease> {
  const client = ctx.client();
  let current = await waitForState(client, lease.id, "ready", {
    timeoutMs: options.timeoutMs,
    onUpdate: (update) => progress.update(update.state === "queued" ? describeQueued(update) : `Lease ${update.slug} is ${update.state}: waiting for the machine…`),
  });
  if (!satisfies(current.state, "ready")) throw leaseEndedError(current, "ready");
  if (!current.endpoint) {
    throw new CliError(`the coordinator reported lease ${current.slug} ${current.state} without an endpoint`, {
      code: "unexpected_response",
      exitCode: EXIT.bug,
    });
  }
  if (!ctx.store.hasKeys(current.id)) throw noLocalKey(current);
  progress.update(`Lease ${current.slug} is ready: connecting over SSH to ${current.endpoint.host}…`);
  await probeSsh(current.endpoint, ctx.store.paths(current.id), { windowMs: options.sshWaitMs, signal: ctx.signal });
  if (current.state === "ready") {
    progress.update(`Lease ${current.slug}: connected, acknowledging…`);
    current = await client.ackLease(current.id);
  }
  ctx.store.saveRecord(current);
  return current;
}

/** How long `ssh`, `run` and `cp` wait to finish bringing up a lease left unacknowledged. */
const READY_WAIT_MS = 60_000;

/**
 * A lease this machine can use now: its key is here, and it is live. One acquired but never
 * acknowledged (the acquiring client stopped after ready) is brought up and acknowledged first.
 */
export async function usableLease(ctx: Context, ref: string): Promise<LiveLease> {
  let lease = await ctx.client().getLease(ref);
  if (!ctx.store.hasKeys(lease.id)) throw noLocalKey(lease);
  if (lease.state === "ready") {
    const progress = ctx.out.progress();
    try {
      lease = await bringUp(ctx, lease, progress, { timeoutMs: READY_WAIT_MS });
    } finally {
      progress.pause(); // the session owns the terminal from here
    }
  }
  if (!LIVE_ENDPOINT_STATES.includes(lease.state) || !lease.endpoint) {
    const next = lease.state === "parked" ? `: \`crabbox resume ${lease.slug}\` first` : "";
    throw new CliError(`lease ${lease.slug} is ${lease.state}${next}`, { code: "invalid_state", exitCode: EXIT.lease });
  }
  return lease as LiveLease;
}

/** A lease with somewhere to connect to. */
export type LiveLease = Lease & { endpoint: NonNullable<Lease["endpoint"]> };

export function noLocalKey(lease: Lease): CliError {
  return new CliError(`the key of lease ${lease.slug} is not on this machine (was it acquired elsewhere?)`, {
    code: "no_local_key",
    exitCode: EXIT.usage,
  });
}

/**
 * Releases a lease the user will not get (Ctrl-C, timeout, SSH failure): destroys it, waits a while
 * for the release to be confirmed and only then removes its keys. Never throws: the server's ack
 * deadline is the backstop, so a failure here is a warning.
 */
export async function abandon(ctx: Context, id: string, progress: Progress): Promise<void> {
  const client = ctx.client({ signal: null }); // the first Ctrl-C aborted ctx.signal; a second one exits
  const slug = ctx.store.readRecord(id)?.slug ?? id;
  try {
    progress.update(`Releasing lease ${slug}…`);
    let lease = await client.releaseLease(id, { action: "destroy" });
    if (!TERMINAL_STATES.includes(lease.state)) {
      lease = await waitForState(client, id, "released", { timeoutMs: RELEASE_CONFIRM_MS });
    }
    if (TERMINAL_STATES.includes(lease.state)) {
      ctx.store.remove(id);
      progress.done(`Released lease ${slug}.`);
    } else {
      progress.fail(`Release of lease ${slug} requested (still ${lease.state}); \`crabbox release ${slug}\` confirms it.`);
    }
  } catch (error) {
    if (error instanceof CliError && error.code === "not_found") {
      ctx.store.remove(id); // the create never landed: nothing to release
      progress.done();
      return;
    }
    const reason = error instanceof Error ? error.message : String(error);
    progress.fail(`Could not release lease ${slug}: ${reason}. The coordinator releases it at its ack deadline.`);
  }
}

/** Says so where a stopped (parked) machine still bills, e.g. for its disk (Vast). */
export async function warnIfStopBills(ctx: Context, provider: string): Promise<void> {
  const info = (await ctx.client().providers()).providers.find((p) => p.name === provider);
  if (info?.capabilities.stoppedBills) {
    ctx.out.warn(`${provider} keeps billing a stopped machine for its storage while the lease is parked; release with --action destroy to stop all billing.`);
  }
}
