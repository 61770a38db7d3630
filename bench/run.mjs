// `npm run bench`: runs the coordinator on workerd (`wrangler dev`) against a zero-latency Lambda
// emulator and measures each figure next to its floor in the same run. See bench/README.md.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { leaseApi, pool } from "./lib/leases.mjs";
import { formatTable, rowsFor } from "./lib/report.mjs";
import { startBenchStack } from "./lib/stack.mjs";
import { measureLifecycle } from "./sections/lifecycle.mjs";
import { measureAccountLimits } from "./sections/limits.mjs";
import { measureRun } from "./sections/run.mjs";
import { measureBundle, measureCliColdStart } from "./sections/startup.mjs";
import { combineSweepSeries, measureSweep } from "./sections/sweep.mjs";
import { addStoredLeases, countIndexedLeases, touchVsFloor } from "./sections/touch.mjs";

const SECTIONS = ["startup", "touch", "lifecycle", "run", "growth", "sweep", "limits"];
const SWEEP_SOURCE = "src/sweep/orphans.ts";
const PLANS = {
  full: {
    cliRuns: 30,
    concurrencies: [1, 16, 64],
    // Many short alternating rounds: a burst from another process hits both sides alike.
    perRound: { 1: 120, 16: 640, 64: 1280 },
    rounds: 10,
    growthLevels: [1_000, 10_000],
    lifecycle: { count: 200, concurrency: 40 },
    // Three independent series, each on a fresh stack (fresh D1, no earlier sightings).
    sweep: { sizes: [1_000, 5_000, 10_000], repeats: 3, series: 3 },
    // 50 launches at Lambda's one per 12 s take about ten minutes: the slowest section by far.
    limits: { creates: 50, storm: 10 },
    run: { runs: 5 },
  },
  quick: {
    cliRuns: 10,
    concurrencies: [1, 16, 64],
    perRound: { 1: 60, 16: 240, 64: 480 },
    rounds: 4,
    growthLevels: [1_000],
    lifecycle: { count: 50, concurrency: 25 },
    sweep: { sizes: [500, 1_000, 2_000], repeats: 1, series: 1 },
    limits: { creates: 6, storm: 4 },
    run: { runs: 2 },
  },
};

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    "state-root": { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (flags.help) {
  console.log(`usage: npm run bench -- [--quick] [--only ${SECTIONS.join(",")}] [--state-root DIR]`);
  process.exit(0);
}
const only = new Set(flags.only ? flags.only.split(",") : SECTIONS);
for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}; choose from ${SECTIONS.join(", ")}`);
const plan = PLANS[flags.quick ? "quick" : "full"];
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const logDir = join("bench", "results", stamp);
await mkdir(logDir, { recursive: true });
const progress = (message) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

const results = {
  meta: { startedAt: new Date().toISOString(), quick: flags.quick, stateRoot: flags["state-root"] ?? tmpdir(), sections: [...only], cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, plan },
};

if (only.has("startup")) {
  progress("start-up: wrangler deploy --dry-run, then the CLI's cold start");
  results.startup = { bundle: await measureBundle({ logDir }), cli: await measureCliColdStart({ logDir, runs: plan.cliRuns }) };
}

const needsStack = ["touch", "lifecycle", "run", "growth"].some((s) => only.has(s));
if (needsStack) {
  progress("starting the Lambda emulator and wrangler dev");
  const stack = await startBenchStack({ logDir, stateRoot: flags["state-root"] });
  try {
    const api = leaseApi(stack.client, stack.token);
    const { deploymentId } = (await stack.client.expect([200], "GET", "/v1/health")).json;
    const first = await api.active();
    let stored = 1;
    const side = (leases, concurrency) => touchVsFloor({ api, leases, concurrency, perRound: plan.perRound[concurrency], rounds: plan.rounds, workerdPid: stack.workerdPid });
    if (only.has("growth")) {
      progress("growth: touch vs floor with 1 stored lease");
      results.growth = [{ storedLeases: stored, ...(await side([first], 1)) }];
    }
    if (only.has("lifecycle")) {
      progress(`lifecycle: ${plan.lifecycle.count} leases, ${plan.lifecycle.concurrency} at a time`);
      results.lifecycle = await measureLifecycle({ api, emulator: stack.emulator, ...plan.lifecycle });
      stored += plan.lifecycle.count;
    }
    if (only.has("run")) {
      progress(`run: crabbox run ${plan.run.runs} times (acquire over boot, no-op command), a 1,000-file sync`);
      results.run = await measureRun({ url: stack.url, token: stack.token, emulator: stack.emulator, ...plan.run });
      stored += plan.run.runs + 1;
    }
    const active = [first];
    if (only.has("touch")) {
      const more = Math.max(...plan.concurrencies) - 1;
      progress(`touch: ${more} more active leases, then touch vs floor at ${plan.concurrencies.join(", ")}`);
      active.push(...(await pool(more, 16, () => api.active())));
      stored += more;
      results.touch = [];
      for (const c of plan.concurrencies) results.touch.push(await side(active, c));
    }
    if (only.has("growth")) {
      results.growthFill = [];
      for (const level of plan.growthLevels) {
        progress(`growth: adding ${level - stored} stored leases (fail-fast, no machine), then touch vs floor`);
        results.growthFill.push({ level, ...(await addStoredLeases({ api, count: level - stored })) });
        stored = level;
        const indexed = await countIndexedLeases(stack);
        if (indexed !== stored) throw new Error(`the D1 index holds ${indexed} leases, expected ${stored}`);
        results.growth.push({ storedLeases: stored, indexed, ...(await side([first], 1)) });
      }
    }
    progress(`releasing the ${active.length} active leases`);
    await pool(active.length, 16, async (i) => {
      await api.release(active[i].id);
      await api.waitFor(active[i].id, "released");
    });
    results.storedLeases = stored;
    results.afterRelease = await leftovers(stack);
  } finally {
    progress("stopping the stack");
    await stack.stop();
  }
}

/** Live leases in the index and live instances / crabbox keys in the emulated account. */
async function leftovers(stack) {
  const live = (await stack.client.expect([200], "GET", "/v1/admin/leases?live=true&limit=100", { token: stack.adminToken })).json.leases;
  const state = (await stack.emulator.control.expect([200], "GET", "/_emulator/state")).json;
  return {
    liveLeases: live.map((l) => `${l.id}: ${l.state}`),
    liveInstances: state.instances.filter((i) => i.status !== "terminated").map((i) => `${i.id}: ${i.status}`),
    crabboxKeys: state.sshKeys.filter((k) => k.name.startsWith("crabbox-")).map((k) => k.name),
  };
}

if (only.has("sweep")) {
  if (!existsSync(SWEEP_SOURCE)) results.sweep = { skipped: `${SWEEP_SOURCE} does not exist yet` };
  else {
    const series = [];
    for (let i = 0; i < plan.sweep.series; i++) {
      progress(`sweep series ${i + 1}/${plan.sweep.series}: a fresh stack, then cron runs over ${plan.sweep.sizes.join(", ")} inventory items`);
      const stack = await startBenchStack({ logDir, stateRoot: flags["state-root"], name: `sweep${i + 1}` });
      try {
        const { deploymentId } = (await stack.client.expect([200], "GET", "/v1/health")).json;
        series.push(await measureSweep({ ...stack, deploymentId, ...plan.sweep }));
      } finally {
        await stack.stop();
      }
    }
    results.sweep = combineSweepSeries(series);
  }
}

if (only.has("limits")) {
  progress(`account limits: ${plan.limits.creates} creates at once under Lambda's real limits, then releases under a 429 storm`);
  results.limits = await measureAccountLimits({ logDir, stateRoot: flags["state-root"], ...plan.limits });
}

results.meta.finishedAt = new Date().toISOString();
const rows = rowsFor(results);
if (results.afterRelease) {
  const n = Object.values(results.afterRelease).reduce((sum, list) => sum + list.length, 0);
  rows.push({ section: "end", figure: "live leases/machines/keys after release", median: String(n), goal: "0", ok: n === 0 });
}
results.rows = rows;
const file = join("bench", "results", `${stamp}.json`);
await writeFile(file, JSON.stringify(results, null, 2) + "\n");
console.log(formatTable(rows));
console.log(`\nresults: ${file}   logs: ${logDir}/`);
