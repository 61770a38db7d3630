// Orphan sweep: one cron run (GET /__scheduled under `wrangler dev --test-scheduled`) over a
// Lambda account holding N instances marked as this deployment's but claimed by no lease (the
// sweep's worst case: every item is "ours" and unexplained). Wall time of the trigger request
// and workerd's CPU time (utime+stime from /proc around it) next to a sweep of an empty account.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { benchPublicKey, pool } from "../lib/leases.mjs";
import { cpuMs, cpuTicksMs } from "../lib/procs.mjs";
import { linearFit, percentile } from "../lib/stats.mjs";
import { LEASE_REGION, LEASE_TYPE } from "../lib/stack.mjs";

const CRON_PATH = "/__scheduled?cron=*/5+*+*+*+*";
/** Instances launched for the sweep stay booting (no SSH server) for the whole run. */
const NEVER_BOOTS_MS = 24 * 3_600_000;
const LAUNCH_CONCURRENCY = 16;
const TERMINATE_BATCH = 200;
const SWEEP_KEY = "bench-sweep";

const leaseId = () => Array.from(randomBytes(16), (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("");
const kib = (pid, field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);

function lambdaApi(emulator) {
  const token = emulator.apiKey;
  return (method, path, body) => emulator.control.expect([200], method, `/api/v1${path}`, { token, body });
}

async function launchOrphans(lambda, deploymentId, count) {
  const ids = await pool(count, LAUNCH_CONCURRENCY, async () => {
    const lease = leaseId();
    const res = await lambda("POST", "/instance-operations/launch", {
      region_name: LEASE_REGION,
      instance_type_name: LEASE_TYPE,
      ssh_key_names: [SWEEP_KEY],
      name: `crabbox-${deploymentId}-${lease}`.slice(0, 64),
      tags: [
        { key: "crabbox-deployment", value: deploymentId },
        { key: "crabbox-lease", value: lease },
      ],
    });
    return res.json.data.instance_ids[0];
  });
  return ids;
}

/** One cron run: wall ms of the trigger, workerd CPU ms, and what the sweep reported. */
async function sweepOnce({ client, adminToken, workerdPid }) {
  const cpuBefore = cpuMs(workerdPid);
  const ticksBefore = cpuTicksMs(workerdPid);
  const rssBefore = kib(workerdPid, "VmRSS");
  const res = await client.request("GET", CRON_PATH);
  const cpu = cpuMs(workerdPid) - cpuBefore;
  const cpuTicks = cpuTicksMs(workerdPid) - ticksBefore;
  if (res.status !== 200) throw new Error(`cron trigger answered ${res.status}: ${res.text.slice(0, 300)}`);
  const runs = (await client.expect([200], "GET", "/v1/admin/sweeps?limit=1", { token: adminToken })).json.sweeps;
  // Counts only: the per-candidate decisions would make the results file megabytes long.
  const { decisions, ...lambda } = runs[0]?.providers.find((p) => p.provider === "lambda") ?? {};
  return { wallMs: res.ms, cpuMs: cpu, cpuTicksMs: cpuTicks, rssGrowthKiB: kib(workerdPid, "VmRSS") - rssBefore, report: lambda };
}

export async function measureSweep({ client, adminToken, emulator, workerdPid, deploymentId, sizes, repeats }) {
  const lambda = lambdaApi(emulator);
  await lambda("POST", "/ssh-keys", { name: SWEEP_KEY, public_key: benchPublicKey() });
  await emulator.control.expect([200], "POST", "/_emulator/config", { body: { bootMs: NEVER_BOOTS_MS } });
  const points = [];
  const launched = [];
  try {
    for (const size of [0, ...sizes]) {
      launched.push(...(await launchOrphans(lambda, deploymentId, size - launched.length)));
      // The first run at a size is a transient (first sightings, objects created for unknown
      // lease ids, D1 inserts); the figure is the steady state a cron pays every 5 minutes.
      const first = await sweepOnce({ client, adminToken, workerdPid });
      const runs = [];
      for (let i = 0; i < repeats; i++) runs.push(await sweepOnce({ client, adminToken, workerdPid }));
      const seen = runs.map((r) => r.report?.seen);
      if (seen.some((n) => n !== size)) throw new Error(`sweep over ${size} items reported seen=${seen.join(",")}`);
      points.push({
        items: size,
        wallMs: percentile(runs.map((r) => r.wallMs), 50),
        cpuMs: percentile(runs.map((r) => r.cpuMs), 50),
        rssGrowthKiB: Math.max(...runs.map((r) => r.rssGrowthKiB)),
        first,
        runs,
      });
    }
  } finally {
    for (let i = 0; i < launched.length; i += TERMINATE_BATCH) {
      await lambda("POST", "/instance-operations/terminate", { instance_ids: launched.slice(i, i + TERMINATE_BATCH) });
    }
    await emulator.control.expect([200], "POST", "/_emulator/config", { body: { bootMs: 0 } });
  }
  return { points, ...linearity(points) };
}

/**
 * Several independent series (each on a fresh stack): per size, the median of the series'
 * steady-state figures, and every series' own figure kept beside it.
 */
export function combineSweepSeries(series) {
  const points = series[0].points.map((first, i) => {
    const at = series.map((s) => s.points[i]);
    return {
      ...first,
      wallMs: percentile(at.map((p) => p.wallMs), 50),
      cpuMs: percentile(at.map((p) => p.cpuMs), 50),
      rssGrowthKiB: Math.max(...at.map((p) => p.rssGrowthKiB)),
      series: at.map((p) => ({ wallMs: p.wallMs, cpuMs: p.cpuMs })),
    };
  });
  return { points, seriesCount: series.length, perSeries: series.map((s) => ({ marginalCpuPer1k: s.marginalCpuPer1k, marginalGrowthCpu: s.marginalGrowthCpu })), ...linearity(points) };
}

/**
 * Linear means the cost of one more item does not grow with the inventory: the marginal CPU per
 * item between the two largest sizes against the marginal between the two smallest non-empty ones.
 */
function linearity(points) {
  const sized = points.filter((p) => p.items > 0);
  const marginal = (a, b, key) => (b[key] - a[key]) / (b.items - a.items);
  const [small, mid] = [sized[0], sized[1]];
  const [prev, last] = sized.slice(-2);
  // A first step that costs nothing (or less than nothing) is noise: no ratio, no verdict.
  const growth = (key) => (sized.length >= 3 && marginal(small, mid, key) > 0 ? marginal(prev, last, key) / marginal(small, mid, key) : NaN);
  const steps = sized.slice(1).map((b, i) => ({ from: sized[i].items, to: b.items, ms: marginal(sized[i], b, "cpuMs") * 1000 }));
  return {
    marginalCpuPer1k: steps,
    cpuFit: linearFit(sized.map((p) => p.items), sized.map((p) => p.cpuMs)),
    wallFit: linearFit(sized.map((p) => p.items), sized.map((p) => p.wallMs)),
    marginalGrowthCpu: growth("cpuMs"),
    marginalGrowthWall: growth("wallMs"),
  };
}
