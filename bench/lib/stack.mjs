// The coordinator under test, started by scripts/stack.mjs (the one place that starts a local
// stack): the Lambda emulator with zero boot/terminate time and no launch throttle, `wrangler dev`
// with fresh local DO/D1 state and bench vars; plus what only the bench needs (an HTTP client,
// the emulator's control client, the pid of the workerd running our Worker).
import { createWriteStream, readdirSync, readlinkSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStack } from "../../scripts/stack.mjs";
import { createClient } from "./http.mjs";
import { freePort, groupMembers } from "./procs.mjs";

/** Caps high enough that admission never refuses a bench lease. */
const BENCH_CAP = 1_000_000;
export const LEASE_REGION = "us-east-1";
export const LEASE_TYPE = "gpu_1x_a10";
/** A type the emulated account has no capacity for: its leases fail fast, without a machine. */
export const NO_CAPACITY_TYPE = "gpu_8x_a100";

/**
 * wrangler runs two workerd processes: its proxy (which owns --port) and the one running our
 * Worker. Ours is the one holding files of the local D1/DO state open (the token mint wrote D1).
 */
function userWorkerd(pgid, stateDir) {
  const holdsState = (pid) =>
    readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(stateDir);
      } catch (err) {
        if (err.code === "ENOENT") return false; // closed while we looked
        throw err;
      }
    });
  const found = groupMembers(pgid).filter((p) => p.comm === "workerd" && holdsState(p.pid));
  if (found.length !== 1) throw new Error(`expected one workerd holding ${stateDir} open, found ${found.length}`);
  return found[0].pid;
}

/** Starts everything; `stop()` tears it all down (process groups, clients, state directory). */
export async function startBenchStack({ logDir, stateRoot = tmpdir(), name = "stack", pacing = false, launchIntervalMs = 0 }) {
  const stateDir = await mkdtemp(join(stateRoot, "crabbox-bench-"));
  // Child output goes to files, not the terminal: the bench prints only its progress and table.
  const logs = { emulators: createWriteStream(join(logDir, `${name}-emulator.log`)), wrangler: createWriteStream(join(logDir, `${name}-wrangler.log`)) };
  const closeLogs = () => Promise.all(Object.values(logs).map((s) => new Promise((resolve) => s.end(resolve))));
  const cleanUp = async () => {
    await closeLogs();
    await rm(stateDir, { recursive: true, force: true });
  };
  let stack;
  try {
    stack = await startStack({
      // Explicit values, so CRABBOX_PORT / CRABBOX_EMULATOR_PORT / CRABBOX_ACK_DEADLINE meant for
      // `npm start` never reach the bench; "" leaves DEFAULT_ACK_DEADLINE at the Worker's default.
      port: await freePort(),
      emulatorPort: 0,
      inspectorPort: await freePort(),
      ackDeadline: "",
      bootMs: 0,
      terminateMs: 0,
      launchIntervalMs,
      capacity: { [LEASE_REGION]: { [LEASE_TYPE]: BENCH_CAP, [NO_CAPACITY_TYPE]: 0 } },
      persistTo: stateDir,
      testScheduled: true,
      logLevel: "warn",
      // The bench always measures against the emulator, whatever credentials .dev.vars holds.
      ignoreDevVars: true,
      tokenFor: { owner: "bench", label: "npm run bench" },
      vars: {
        CRABBOX_BENCH: "1",
        // Off where the bench measures the coordinator's own overhead against an instant
        // emulator; on in the account-limits section, which measures pacing itself.
        PROVIDER_PACING: pacing ? "on" : "off",
        LAMBDA_DEFAULT_REGION: LEASE_REGION,
        LAMBDA_DEFAULT_TYPE: LEASE_TYPE,
        MAX_LEASES_PER_OWNER: String(BENCH_CAP),
        MAX_LEASES_GLOBAL: String(BENCH_CAP),
      },
      onOutput: (source, line) => (logs[source] ?? logs.wrangler).write(`${line}\n`),
      log: (message) => logs.wrangler.write(`[stack] ${message}\n`),
    });
  } catch (err) {
    await cleanUp();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n(logs: ${logDir})`, { cause: err });
  }
  const client = createClient(stack.url);
  const lambda = stack.emulator.lambda;
  const emulator = { ...lambda, control: createClient(lambda.url) };
  const stop = async () => {
    client.close();
    emulator.control.close();
    await stack.stop();
    await cleanUp();
  };
  try {
    const workerdPid = userWorkerd(stack.wranglerPgid, stateDir);
    return { url: stack.url, client, token: stack.token, adminToken: stack.adminToken, emulator, workerdPid, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
