// `npm run chaos`: drives the local stack (five emulators, the coordinator under wrangler dev
// on persisted state) through the public API and the CLI: hundreds of lease lifecycles across
// the five providers, every fault the emulators can inject, and the coordinator killed (-9) and
// restarted on the same state mid-run, the cron sweep run between. Then it checks, per
// provider, that nothing leaked, nothing was created twice, nothing foreign was touched and the
// coordinator never answered 5xx; it prints the figures and exits non-zero on any violation.
// Options: --lifecycles N (500) --restarts N (2) --concurrency N (16) --seed N.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../stack-process.mjs";
import { startStack, PROJECT_ROOT } from "../stack.mjs";
import { chaosClient, seeded } from "./client.mjs";
import { PROVIDERS, control } from "./providers.mjs";
import { pickScenario, runLifecycle } from "./scenarios.mjs";

const NAMES = Object.keys(PROVIDERS);
const TERMINAL = ["released", "failed"];
const FAULT_EVERY_MS = 1_500;
const SWEEP_EVERY_MS = 20_000;
const SETTLE_MS = 240_000;

/**
 * @param {{lifecycles?: number, restarts?: number, concurrency?: number, seed?: number, log?: (line: string) => void}} [options]
 */
export async function runChaos(options = {}) {
  const lifecycles = options.lifecycles ?? 500;
  const restarts = options.restarts ?? 2;
  const concurrency = options.concurrency ?? 16;
  const seed = options.seed ?? Date.now() % 1_000_000;
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  const random = seeded(seed);
  const persistTo = mkdtempSync(join(tmpdir(), "crabbox-chaos-state-"));
  const cliHome = mkdtempSync(join(tmpdir(), "crabbox-chaos-cli-"));
  const output = [];
  log(`chaos: ${lifecycles} lifecycles, ${restarts} coordinator restarts, concurrency ${concurrency}, seed ${seed}`);
  const stack = await startStack({
    persistTo,
    port: await freePort(),
    bootMs: 300,
    terminateMs: 300,
    launchIntervalMs: 0,
    ackDeadline: "15s",
    ignoreDevVars: true,
    vars: { CRABBOX_DEPLOYMENT_ID: "chaos-run", SWEEP_GRACE: "3s", MAX_LEASES_PER_OWNER: "200", MAX_LEASES_GLOBAL: "400" },
    onOutput: (source, line) => output.push(`[${source}] ${line}`),
    log: (message) => log(`chaos: ${message}`),
  });
  const serverErrors = new Map();
  const serverErrorSamples = [];
  const client = chaosClient({ url: stack.url, serverErrors, serverErrorSamples });
  const started = Date.now();
  const timers = [];
  try {
    for (const name of NAMES) await PROVIDERS[name].prepare(stack.emulator[name]);
    const foreign = {};
    for (const name of NAMES) foreign[name] = await PROVIDERS[name].seed(stack.emulator[name]);
    log(`chaos: seeded foreign resources: ${NAMES.map((n) => `${n} ${foreign[n].length}`).join(", ")}`);

    const sweep = () => fetch(`${stack.url}/__scheduled?cron=*/5+*+*+*+*`).catch(() => undefined);
    const faults = { injected: 0, byKind: {} };
    timers.push(setInterval(() => void injectFault(stack, random, faults), FAULT_EVERY_MS));
    timers.push(setInterval(() => void sweep(), SWEEP_EVERY_MS));

    const notes = [];
    const ctx = { client, token: stack.token, random, url: stack.url, root: PROJECT_ROOT, cliHome, known: new Set(), idsOf: () => [], note: (id, text) => notes.push(`${id}: ${text}`) };
    const outcomes = [];
    let next = 0;
    let done = 0;
    const restartAt = Array.from({ length: restarts }, (_, i) => Math.floor(((i + 1) * lifecycles) / (restarts + 1)));
    let restarting = Promise.resolve();
    const worker = async () => {
      while (next < lifecycles) {
        const n = next++;
        const provider = NAMES[n % NAMES.length];
        const scenario = pickScenario(random, PROVIDERS[provider].canStop);
        try {
          const result = await runLifecycle(ctx, scenario, provider);
          if (result.id) ctx.known.add(result.id);
          outcomes.push({ provider, scenario, ...result });
        } catch (err) {
          outcomes.push({ provider, scenario, outcome: `driver error: ${err instanceof Error ? err.message : String(err)}` });
        }
        done++;
        if (restartAt.includes(done)) {
          restarting = restarting.then(async () => {
            log(`chaos: ${done}/${lifecycles} done: killing the coordinator (-9) and restarting it on the same state`);
            await stack.restartCoordinator();
            await sweep();
          });
        }
        if (done % 50 === 0) log(`chaos: ${done}/${lifecycles} lifecycles`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await restarting;
    for (const timer of timers.splice(0)) clearInterval(timer);
    for (const name of NAMES) await fetch(`${stack.emulator[name].url}/_emulator/faults`, { method: "DELETE" }).catch(() => undefined);
    log(`chaos: all lifecycles ran in ${Math.round((Date.now() - started) / 1000)} s; letting every lease end`);

    // Every lease this coordinator holds is ours (its own state): wait, bounded, until all ended.
    const leases = await settle(client, stack, sweep, log);
    return await audit({ stack, client, leases, foreign, serverErrors, serverErrorSamples, outcomes, notes, faults, seed, lifecycles, restarts, started, log });
  } finally {
    for (const timer of timers) clearInterval(timer);
    await stack.stop();
    rmSync(persistTo, { recursive: true, force: true });
    rmSync(cliHome, { recursive: true, force: true });
  }
}

async function allLeases(client, stack) {
  const leases = [];
  let cursor;
  do {
    const page = await client.call(stack.adminToken, "GET", `/v1/admin/leases?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    leases.push(...(page.json?.leases ?? []));
    cursor = page.json?.nextCursor;
  } while (cursor);
  return leases;
}

async function settle(client, stack, sweep, log) {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const leases = await allLeases(client, stack);
    const open = leases.filter((l) => !TERMINAL.includes(l.state));
    // A parked lease at the end was released by nobody: end it (its retention would, much later).
    for (const l of open.filter((l) => l.state === "parked" || l.state === "ready" || l.state === "active")) {
      await client.call(stack.adminToken, "POST", `/v1/admin/leases/${l.id}/release`, { body: { action: "destroy" } });
    }
    if (!open.length || Date.now() > deadline) return leases;
    log(`chaos: ${open.length} leases still ending (${[...new Set(open.map((l) => l.state))].join(", ")})`);
    await sweep();
    await new Promise((r) => setTimeout(r, 5_000));
  }
}

async function injectFault(stack, random, faults) {
  const name = NAMES[Math.floor(random() * NAMES.length)];
  const emu = stack.emulator[name];
  const provider = PROVIDERS[name];
  try {
    const targets = await provider.faultTargets(emu);
    const pick = (list) => list[Math.floor(random() * list.length)];
    const roll = random();
    let fault;
    if (roll < 0.25) fault = { path: pick(targets.reads), kind: "status", status: pick([500, 502, 503]), times: 1 + Math.floor(random() * 2) };
    else if (roll < 0.35 && targets.create) fault = { path: targets.create, kind: "lost_response", method: "POST", times: 1 };
    else if (roll < 0.45 && targets.create) fault = { path: targets.create, kind: "status", status: 500, method: "POST", times: 1 };
    else if (roll < 0.55) fault = { path: pick(targets.reads), kind: "rate_limit", times: 5 };
    else if (roll < 0.62) fault = { path: pick(targets.reads), kind: "timeout", times: 1 };
    else if (roll < 0.72 && targets.reads.length > 1) fault = { path: pick(targets.reads.slice(1)), kind: "status", status: 404, method: "GET", times: 1 };
    else if (roll < 0.8 && targets.releases.length) fault = { path: pick(targets.releases), kind: "status", status: 503, times: 1 };
    else if (roll < 0.88 && name === "lambda") fault = { path: targets.create, kind: "capacity", method: "POST", times: 2 };
    else if (roll < 0.94 && name === "lambda") {
      await provider.preempt(emu, new Set());
      count(faults, "preemption");
      return;
    } else if (name === "coder") {
      await control(emu, "/config", { failNextStart: "chaos: emulated provisioner failure" });
      count(faults, "failing boot");
      return;
    } else if (name === "lambda") {
      await control(emu, "/config", { bootMs: 4_000 });
      setTimeout(() => void control(emu, "/config", { bootMs: 300 }).catch(() => undefined), 8_000);
      count(faults, "slow boot");
      return;
    } else return;
    if (!fault.path) return;
    await control(emu, "/faults", { faults: [fault] });
    count(faults, fault.kind === "status" ? `HTTP ${fault.status}` : fault.kind);
  } catch {
    // The emulator is busy or the target just went away: the next tick injects another.
  }
}

function count(faults, kind) {
  faults.injected++;
  faults.byKind[kind] = (faults.byKind[kind] ?? 0) + 1;
}

async function audit({ stack, client, leases, foreign, serverErrors, serverErrorSamples, outcomes, notes, faults, seed, lifecycles, restarts, started, log }) {
  const ids = new Set(leases.map((l) => l.id));
  const perProvider = {};
  const violations = [];
  for (const name of NAMES) {
    const mine = leases.filter((l) => l.provider === name);
    const mineIds = new Set(mine.map((l) => l.id));
    const { leftovers, foreignTouched, created } = await PROVIDERS[name].audit(stack.emulator[name], mineIds, foreign[name]);
    const counts = new Map();
    for (const c of created) for (const id of mineIds) if (c.key.includes(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
    const twice = [...counts.entries()].filter(([, n]) => n > 1).map(([id, n]) => `${id} (${n} creations)`);
    const open = mine.filter((l) => !TERMINAL.includes(l.state));
    const slowest = Math.max(0, ...mine.map((l) => Date.parse(l.updatedAt) - Date.parse(l.createdAt)));
    perProvider[name] = {
      leases: mine.length,
      released: mine.filter((l) => l.state === "released").length,
      failed: mine.filter((l) => l.state === "failed").length,
      notTerminal: open.length,
      leftovers: leftovers.length,
      createdTwice: twice.length,
      foreignTouched: foreignTouched.length,
      serverErrors: serverErrors.get(name) ?? 0,
      slowestSeconds: Math.round(slowest / 1000),
    };
    for (const l of open) violations.push({ provider: name, what: "lease not terminal", lease: l.id, detail: l.state });
    for (const item of leftovers) violations.push({ provider: name, what: "resource left", detail: item });
    for (const item of twice) violations.push({ provider: name, what: "created twice", detail: item });
    for (const item of foreignTouched) violations.push({ provider: name, what: "foreign resource touched", detail: item });
    if (perProvider[name].serverErrors) violations.push({ provider: name, what: "5xx answers", detail: String(perProvider[name].serverErrors) });
  }
  if (serverErrors.get("-")) violations.push({ provider: "-", what: "5xx answers", detail: String(serverErrors.get("-")) });
  for (const note of notes) violations.push({ provider: "-", what: "driver note", detail: note });
  // The events of the leases a violation names, so the report shows what happened.
  for (const v of violations.filter((v) => v.lease).slice(0, 10)) {
    const events = await client.call(stack.adminToken, "GET", `/v1/admin/leases/${v.lease}/events`);
    v.events = (events.json?.events ?? []).map((e) => `${e.at} ${e.state}: ${e.message}`).slice(-12);
  }
  const report = {
    seed,
    lifecycles,
    leases: ids.size,
    restarts,
    seconds: Math.round((Date.now() - started) / 1000),
    faults,
    outcomes: summarize(outcomes),
    providers: perProvider,
    serverErrorSamples: serverErrorSamples.slice(0, 10),
    violations,
  };
  printReport(report, log);
  return report;
}

function summarize(outcomes) {
  const out = {};
  for (const o of outcomes) out[o.scenario] = (out[o.scenario] ?? 0) + 1;
  return out;
}

function printReport(report, log) {
  const cols = ["leases", "released", "failed", "notTerminal", "leftovers", "createdTwice", "foreignTouched", "serverErrors", "slowestSeconds"];
  log("");
  log(`chaos report (seed ${report.seed}): ${report.leases} leases in ${report.seconds} s, ${report.restarts} coordinator restarts, ${report.faults.injected} faults injected`);
  log(`  faults: ${Object.entries(report.faults.byKind).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  log(`  scenarios: ${Object.entries(report.outcomes).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  log(`  ${"provider".padEnd(9)}${cols.map((c) => c.padStart(15)).join("")}`);
  for (const [name, row] of Object.entries(report.providers)) log(`  ${name.padEnd(9)}${cols.map((c) => String(row[c]).padStart(15)).join("")}`);
  if (!report.violations.length) log("  no violations");
  for (const v of report.violations) {
    log(`  VIOLATION ${v.provider}: ${v.what}${v.lease ? ` ${v.lease}` : ""}: ${v.detail}`);
    for (const e of v.events ?? []) log(`      ${e}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { lifecycles: { type: "string" }, restarts: { type: "string" }, concurrency: { type: "string" }, seed: { type: "string" }, json: { type: "boolean" } } });
  const num = (v) => (v === undefined ? undefined : Number(v));
  const report = await runChaos({ lifecycles: num(values.lifecycles), restarts: num(values.restarts), concurrency: num(values.concurrency), seed: num(values.seed) });
  if (values.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  process.exit(report.violations.length ? 1 : 0);
}
