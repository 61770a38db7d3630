// Child processes of the local stack: each runs in its own process group (detached) so that
// stopping it with kill(-pid) also ends what it spawned (npm → wrangler → workerd), and a
// hook kills every group still running if this process exits without stopping them.
import net from "node:net";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const STOP_GRACE_MS = 5000;
const STOP_POLL_MS = 50;
const OUTPUT_TAIL_LINES = 40;

/** @type {Set<import("node:child_process").ChildProcess>} */
const groups = new Set();
process.on("exit", () => {
  // Last resort (an uncaught error, process.exit elsewhere): never leave workerd or SSH servers.
  for (const child of groups) signalGroup(child, "SIGKILL", true);
});

/**
 * Signal every process in the child's group; unless `evenIfLeaderExited`, only while the leader runs.
 * @param {import("node:child_process").ChildProcess} child @param {NodeJS.Signals} signal
 * @param {boolean} [evenIfLeaderExited]
 */
function signalGroup(child, signal, evenIfLeaderExited = false) {
  if (child.pid === undefined) return;
  if (!evenIfLeaderExited && (child.exitCode !== null || child.signalCode !== null)) return;
  try {
    process.kill(-child.pid, signal);
  } catch (err) {
    // ESRCH: the group is already gone, which is what we wanted.
    if (/** @type {NodeJS.ErrnoException} */ (err).code !== "ESRCH") throw err;
  }
}

/** True while any process of group `pgid` exists (zombies included, until they are reaped). */
function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code === "ESRCH") return false;
    throw err;
  }
}

/**
 * Start `command args` in its own process group, forwarding its output line by line.
 * @param {{name: string, command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv,
 *   onLine?: (source: string, line: string) => void}} options
 */
export function startGroup(options) {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  groups.add(child);
  /** @type {string[]} */
  const tail = [];
  /** @type {((line: string) => void)[]} */
  const stdoutWatchers = [];
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
  for (const [stream, source] of [[child.stdout, "stdout"], [child.stderr, "stderr"]]) {
    createInterface({ input: /** @type {import("node:stream").Readable} */ (stream) }).on("line", (line) => {
      tail.push(line);
      if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
      if (source === "stdout") for (const watch of stdoutWatchers) watch(line);
      options.onLine?.(options.name, line);
    });
  }
  return {
    child,
    /** @type {Promise<{code: number | null, signal: NodeJS.Signals | null}>} */
    exited,
    /** The last lines of output, for error messages. */
    tail: () => tail.join("\n"),
    /** @param {(line: string) => void} watch */
    onStdoutLine: (watch) => stdoutWatchers.push(watch),
    /** SIGKILL the whole group at once (a crash, as the chaos suite makes one), and wait until it is gone. */
    async kill() {
      const pid = child.pid;
      if (pid === undefined) return;
      signalGroup(child, "SIGKILL", true);
      while (groupAlive(pid)) await new Promise((r) => setTimeout(r, STOP_POLL_MS));
      await exited;
      groups.delete(child);
    },
    /** SIGTERM the whole group, SIGKILL what is left after a grace period. Idempotent. */
    async stop() {
      const pid = child.pid;
      if (pid === undefined) return;
      signalGroup(child, "SIGTERM", true);
      const deadline = Date.now() + STOP_GRACE_MS;
      // The leader (npm) exits first; wait for the whole group (wrangler, workerd) to be gone.
      while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, STOP_POLL_MS));
      if (groupAlive(pid)) signalGroup(child, "SIGKILL", true);
      await exited;
      groups.delete(child);
    },
  };
}

/**
 * Run a command to completion (in its own group), rejecting with its output on failure.
 * @param {{name: string, command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv}} options
 */
export async function runToEnd(options) {
  const group = startGroup(options);
  const { code, signal } = await group.exited;
  await group.stop();
  if (code !== 0) throw new Error(`${options.name} failed (${signal ?? `exit ${code}`}):\n${group.tail()}`);
}

/**
 * KEY=VALUE lines of a .dev.vars (dotenv) file; quotes are stripped, comments ignored.
 * @param {string} text
 * @returns {Record<string, string>}
 */
export function parseDevVars(text) {
  /** @type {Record<string, string>} */
  const vars = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2] ?? "";
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    vars[/** @type {string} */ (match[1])] = value;
  }
  return vars;
}

/** A TCP port free on 127.0.0.1 right now (for a coordinator started by a script). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (probe.address());
      probe.close(() => resolve(port));
    });
  });
}
