// The coordinator under test: the Lambda emulator (zero boot/terminate time, no launch throttle)
// as a child process, and `wrangler dev` on workerd with fresh local DO/D1 state and bench vars.
import { randomBytes } from "node:crypto";
import { readdirSync, readlinkSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createClient } from "./http.mjs";
import { freePort, groupMembers, runToEnd, spawnGroup } from "./procs.mjs";

const READY_TIMEOUT_MS = 90_000;
const POLL_MS = 250;
/** Caps high enough that admission never refuses a bench lease. */
const BENCH_CAP = 1_000_000;
export const LEASE_REGION = "us-east-1";
export const LEASE_TYPE = "gpu_1x_a10";
/** A type the emulated account has no capacity for: its leases fail fast, without a machine. */
export const NO_CAPACITY_TYPE = "gpu_8x_a100";
/**
 * X_LOCAL_OBSERVABILITY=false: wrangler dev otherwise records a trace of every request in a local
 * SQLite store (about 20 writes and 2 fsyncs per request, seen with strace), a cost production
 * does not have that would sit in the path of the floor and the touch alike.
 */
const WRANGLER_ENV = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", X_LOCAL_OBSERVABILITY: "false", CI: "1" };

async function startEmulator(logFile) {
  const apiKey = `secret_bench-${randomBytes(12).toString("hex")}`;
  const args = ["test/emulators/serve.ts", "--api-key", apiKey, "--boot-ms", "0", "--terminate-ms", "0", "--launch-interval-ms", "0"];
  // process.execPath is the Node 22 that `npm run bench` put first on PATH.
  const proc = spawnGroup(process.execPath, args, { logFile, pipeStdout: true });
  const firstLine = await Promise.race([
    new Promise((resolve) => createInterface({ input: proc.child.stdout }).once("line", resolve)),
    proc.exited.then(({ code }) => Promise.reject(new Error(`emulator exited ${code}; see ${logFile}`))),
  ]);
  const info = JSON.parse(firstLine).lambda;
  const control = createClient(info.url);
  const capacity = { [LEASE_REGION]: { [LEASE_TYPE]: BENCH_CAP, [NO_CAPACITY_TYPE]: 0 } };
  await control.expect([200], "POST", "/_emulator/config", { body: { bootMs: 0, terminateMs: 0, launchIntervalMs: 0, capacity } });
  return { ...info, apiKey, control, stop: proc.stop };
}

async function waitHealthy(client, exited, logFile) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let gone = false;
  exited.then(() => (gone = true));
  while (Date.now() < deadline && !gone) {
    const res = await client.request("GET", "/v1/health").catch(() => undefined);
    if (res?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`wrangler dev did not become healthy; see ${logFile}`);
}

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

/** Starts everything; `stop()` tears it all down (process groups, state directory). */
export async function startBenchStack({ logDir, stateRoot = tmpdir() }) {
  const stateDir = await mkdtemp(join(stateRoot, "crabbox-bench-"));
  const stops = [() => rm(stateDir, { recursive: true, force: true })];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn();
  };
  try {
    const emulator = await startEmulator(join(logDir, "emulator.log"));
    stops.push(emulator.stop, async () => emulator.control.close());
    const wranglerLog = join(logDir, "wrangler.log");
    await runToEnd("npm", ["exec", "--", "wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], {
      env: WRANGLER_ENV,
      logFile: wranglerLog,
    });
    const adminToken = `bench-admin-${randomBytes(16).toString("hex")}`;
    const vars = {
      CRABBOX_BENCH: "1",
      CRABBOX_ADMIN_TOKEN: adminToken,
      LAMBDA_API_KEY: emulator.apiKey,
      LAMBDA_BASE_URL: emulator.apiBase,
      LAMBDA_SSH_PORT: String(emulator.sshPort),
      LAMBDA_DEFAULT_REGION: LEASE_REGION,
      LAMBDA_DEFAULT_TYPE: LEASE_TYPE,
      MAX_LEASES_PER_OWNER: String(BENCH_CAP),
      MAX_LEASES_GLOBAL: String(BENCH_CAP),
    };
    const port = await freePort();
    const args = ["exec", "--", "wrangler", "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort())];
    args.push("--persist-to", stateDir, "--test-scheduled", "--show-interactive-dev-session=false", "--log-level", "warn");
    for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
    const wrangler = spawnGroup("npm", args, { env: WRANGLER_ENV, logFile: wranglerLog });
    stops.push(wrangler.stop);
    const url = `http://127.0.0.1:${port}`;
    const client = createClient(url);
    stops.push(async () => client.close());
    await waitHealthy(client, wrangler.exited, wranglerLog);
    const minted = await client.expect([201], "POST", "/v1/admin/tokens", { token: adminToken, body: { owner: "bench", label: "npm run bench" } });
    return { url, client, token: minted.json.token, adminToken, emulator, workerdPid: userWorkerd(wrangler.child.pid, stateDir), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
