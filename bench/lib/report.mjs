// Turns the bench's results into rows (figure, median, p99, floor, ratio, goal, verdict) and
// prints them as one fixed-width table. The JSON file keeps the raw figures behind each row.

const ms = (v) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + " ms" : "–");
const x = (v) => (Number.isFinite(v) ? v.toFixed(2) + "×" : "–");
const verdict = (ok) => (ok === undefined ? "" : ok ? "PASS" : "FAIL");

export const TOUCH_GOAL_RATIO = 1.5;
export const FLAT_GOAL_RATIO = 1.25;
export const BUNDLE_GOAL_KIB = 100;
/** The CLI's own loading cost: its cold start against a bare `node empty.mjs` on the same machine. */
export const CLI_GOAL_RATIO = 1.3;
export const SWEEP_MARGINAL_GOAL = 1.5;
export const STORM_RELEASE_GOAL_MS = 60_000;

export function rowsFor(results) {
  const rows = [];
  const add = (section, figure, cells = {}) => rows.push({ section, figure, ...cells });
  const { startup, touch, growth, lifecycle, sweep, limits, run } = results;

  if (startup?.bundle) {
    const b = startup.bundle;
    add("start-up", "Worker bundle, gzip", { median: `${b.gzipKiB.toFixed(1)} KiB`, p99: `raw ${b.rawKiB.toFixed(0)} KiB`, goal: `≤ ${BUNDLE_GOAL_KIB} KiB`, kind: "size", ok: b.gzipKiB <= BUNDLE_GOAL_KIB });
  }
  if (startup?.cli) {
    const c = startup.cli;
    add("start-up", "node empty.mjs (floor)", { median: ms(c.floor.median), p99: ms(c.floor.p99) });
    const ratio = c.cli.median / c.floor.median;
    add("start-up", "crabbox --version (system node)", { median: ms(c.cli.median), p99: ms(c.cli.p99), floor: ms(c.floor.median), ratio: x(ratio), goal: `≤ ${CLI_GOAL_RATIO}× floor`, kind: "ratio", ok: ratio <= CLI_GOAL_RATIO });
  }
  for (const t of touch ?? []) {
    const ratio = t.subject.median / t.floor.median;
    add("touch", `floor c=${t.concurrency}`, { median: ms(t.floor.median), p99: ms(t.floor.p99), rate: `${t.floor.perSecond.toFixed(0)}/s`, cpu: ms(t.floor.cpuPerRequestMs) });
    add("touch", `touch c=${t.concurrency}`, {
      median: ms(t.subject.median),
      p99: ms(t.subject.p99),
      rate: `${t.subject.perSecond.toFixed(0)}/s`,
      cpu: ms(t.subject.cpuPerRequestMs),
      floor: ms(t.floor.median),
      ratio: `${x(ratio)} (p99 ${x(t.subject.p99 / t.floor.p99)}, rate ${x(t.floor.perSecond / t.subject.perSecond)})`,
      goal: `≤ ${TOUCH_GOAL_RATIO}× floor`,
      kind: "ratio",
      ok: ratio <= TOUCH_GOAL_RATIO,
    });
  }
  const base = growth?.[0];
  for (const g of growth ?? []) {
    const ratio = g.subject.median / g.floor.median;
    const flat = ratio / (base.subject.median / base.floor.median);
    add("growth", `touch c=1, ${g.storedLeases.toLocaleString("en")} stored`, {
      median: ms(g.subject.median),
      p99: ms(g.subject.p99),
      cpu: ms(g.subject.cpuPerRequestMs),
      floor: ms(g.floor.median),
      ratio: `${x(ratio)} (vs 1 lease ${x(flat)})`,
      goal: g === base ? "" : `≤ ${FLAT_GOAL_RATIO}× the 1-lease ratio`,
      kind: g === base ? "" : "ratio",
      ok: g === base ? undefined : flat <= FLAT_GOAL_RATIO,
    });
  }
  for (const f of results.growthFill ?? []) {
    add("growth", `fill to ${f.level.toLocaleString("en")}: fail-fast leases created → ended`, { median: `${((f.added / f.wallMs) * 1000).toFixed(1)}/s`, p99: `${f.added} in ${(f.wallMs / 1000).toFixed(0)} s` });
  }
  if (lifecycle) {
    const p = lifecycle.phases;
    const line = (figure, s, goal, ok, kind) => add("lifecycle", figure, { median: ms(s.median), p99: ms(s.p99), goal, ok, kind });
    const bound = lifecycle.detectionBound;
    line("create call", p.createCall);
    line("created → provider active", p.createdToProviderActive);
    add("lifecycle", "  bound: poll interval + inspect + banner probe", {
      median: ms(bound.boundMs),
      p99: `${bound.pollIntervalMs} + ${ms(bound.inspect.median)} + ${ms(bound.probe.median)}`,
    });
    line("detection lag (active → ready)", p.detectionLag, "median ≤ bound", p.detectionLag.median <= bound.boundMs, "ratio");
    line("ready → client long-poll wakes", p.readyToClient);
    line("ack call", p.ackCall);
    line("release call", p.releaseCall);
    line("release → released", p.releaseToReleased);
    add("lifecycle", `${lifecycle.count} lifecycles, ${lifecycle.concurrency} at a time`, { median: `${lifecycle.perSecond.toFixed(1)}/s`, p99: `wall ${(lifecycle.wallMs / 1000).toFixed(1)} s` });
    add("lifecycle", "leases/machines/keys left behind", { median: String(lifecycle.leftBehindCount), goal: "0", kind: "count", ok: lifecycle.leftBehindCount === 0 });
  }
  if (run) {
    add("run", `acquire wall − emulator boot (${run.bootMs} ms)`, { median: ms(run.acquireOverBoot.median), p99: `max ${ms(run.acquireOverBoot.max)}` });
    add("run", "no-op remote command (`true`)", { median: ms(run.noopCommand.median), p99: ms(run.noopCommand.p99), floor: ms(run.sshFloor.median), ratio: x(run.noopCommand.median / run.sshFloor.median) });
    add("run", `sync of a ${run.syncFirst.files.toLocaleString("en")}-file tree`, { median: ms(run.syncFirst.ms), p99: `${run.syncFirst.filesTransferred} files sent` });
    add("run", "  again, nothing changed", { median: ms(run.syncUnchanged.ms), p99: `${run.syncUnchanged.filesTransferred} files sent` });
  }
  if (sweep?.skipped) add("sweep", "orphan sweep", { median: "skipped", p99: sweep.skipped });
  if (sweep?.points) {
    const floor = sweep.points[0];
    for (const pt of sweep.points) {
      add("sweep", pt.items === 0 ? "cron sweep, empty account (floor)" : `cron sweep, ${pt.items.toLocaleString("en")} items`, {
        median: `${ms(pt.wallMs)} wall`,
        p99: pt.series?.length > 1
          ? `${ms(pt.cpuMs)} cpu (series: ${pt.series.map((r) => ms(r.cpuMs)).join(" / ")})`
          : `${ms(pt.cpuMs)} cpu (1st run ${ms(pt.first.wallMs)} / ${ms(pt.first.cpuMs)})`,
        floor: pt.items === 0 ? "" : `${ms(floor.cpuMs)} cpu`,
        ratio: pt.items === 0 ? "" : x(pt.cpuMs / floor.cpuMs),
      });
    }
    const per1k = sweep.marginalCpuPer1k.map((m) => `${m.from / 1000}k→${m.to / 1000}k ${ms(m.ms)}`).join(", ");
    for (const [i, one] of (sweep.perSeries ?? []).entries()) {
      if (sweep.perSeries.length < 2) break;
      add("sweep", `  series ${i + 1}: last step ÷ first`, { median: x(one.marginalGrowthCpu), p99: one.marginalCpuPer1k.map((m) => ms(m.ms)).join(", ") });
    }
    add("sweep", "cpu per 1,000 more items: last step ÷ first", {
      median: x(sweep.marginalGrowthCpu),
      p99: per1k,
      ratio: `wall ${x(sweep.marginalGrowthWall)}`,
      goal: `≤ ${SWEEP_MARGINAL_GOAL}× (linear)`,
      kind: "ratio",
      ok: Number.isFinite(sweep.marginalGrowthCpu) ? sweep.marginalGrowthCpu <= SWEEP_MARGINAL_GOAL : undefined,
    });
  }
  if (limits) {
    const c = limits.creates;
    add("limits", `${c.count} creates at once, real account limits: ready`, {
      median: `${c.ready}/${c.count}`,
      p99: `all in ${(c.allReadyMs / 1000).toFixed(0)} s; ${c.rateLimitedAnswers} × 429 seen; failed: ${c.failed.length}`,
      goal: "all ready, none failed by a 429",
      kind: "count",
      ok: c.ready === c.count && c.failedByRateLimit === 0,
    });
    add("limits", "  created → ready", { median: ms(c.readyAfter.median), p99: `max ${ms(c.readyAfter.max)}` });
    const st = limits.storm;
    add("limits", `${st.count} releases in a 429 storm: release → machine gone`, {
      median: ms(st.releaseToMachineGone.median),
      p99: `p95 ${ms(st.releaseToMachineGone.p95)}, max ${ms(st.releaseToMachineGone.max)}`,
      goal: `p95 ≤ ${STORM_RELEASE_GOAL_MS / 1000} s`,
      // Seconds set by the provider's 1 request/s and the storm's length, not by CPU speed.
      kind: "schedule",
      ok: st.releaseToMachineGone.n === st.count && st.releaseToMachineGone.p95 <= STORM_RELEASE_GOAL_MS,
    });
    add("limits", "  release → lease released", { median: ms(st.releaseToTerminal.median), p99: `p95 ${ms(st.releaseToTerminal.p95)}` });
    add("limits", "machines/keys left in the account", { median: String(limits.leftBehind), goal: "0", kind: "count", ok: limits.leftBehind === 0 });
  }
  return rows;
}

const COLUMNS = [
  ["section", "section"],
  ["figure", "figure"],
  ["median", "median"],
  ["p99", "p99 / detail"],
  ["rate", "rate"],
  ["cpu", "cpu/req"],
  ["floor", "floor"],
  ["ratio", "ratio to floor"],
  ["goal", "goal"],
  ["kind", "verdict by"],
  ["verdict", ""],
];

export function formatTable(rows) {
  const cells = rows.map((r) => COLUMNS.map(([key]) => (key === "verdict" ? verdict(r.ok) : String(r[key] ?? ""))));
  const widths = COLUMNS.map(([, title], i) => Math.max(title.length, ...cells.map((c) => c[i].length)));
  const line = (values) => values.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [line(COLUMNS.map(([, title]) => title)), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}
