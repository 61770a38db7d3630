// Side-by-side measurement: a subject route and its floor, run in alternating rounds of a
// closed loop (each of `concurrency` callers sends its next request when the last answered),
// so drift on a shared machine hits both alike. Only ratios are meant to be compared.
import { performance } from "node:perf_hooks";
import { summarize } from "./stats.mjs";

/** `send(caller)` → {status, ms}; returns latencies of the 200s, errors, wall and CPU time. */
async function closedLoop(concurrency, total, send, cpu) {
  const latencies = [];
  let errors = 0;
  let sent = 0;
  const cpuBefore = cpu();
  const started = performance.now();
  const caller = async (index) => {
    while (sent < total) {
      sent++;
      const res = await send(index);
      if (res.status === 200) latencies.push(res.ms);
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => caller(i)));
  return { latencies, errors, wallMs: performance.now() - started, cpuMs: cpu() - cpuBefore };
}

/**
 * Runs `rounds` rounds of `perRound` requests for each side, floor first in even rounds and
 * subject first in odd ones, after one unrecorded warm-up round of each.
 */
export async function sideBySide({ concurrency, perRound, rounds, floor, subject, cpu = () => 0 }) {
  const empty = () => ({ latencies: [], errors: 0, wallMs: 0, cpuMs: 0 });
  const sides = { floor: empty(), subject: empty() };
  const warmup = Math.max(concurrency * 4, 50);
  await closedLoop(concurrency, warmup, floor, cpu);
  await closedLoop(concurrency, warmup, subject, cpu);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ["floor", "subject"] : ["subject", "floor"];
    for (const side of order) {
      const run = await closedLoop(concurrency, perRound, side === "floor" ? floor : subject, cpu);
      sides[side].latencies.push(...run.latencies);
      sides[side].errors += run.errors;
      sides[side].wallMs += run.wallMs;
      sides[side].cpuMs += run.cpuMs;
    }
  }
  const result = (s) => ({
    ...summarize(s.latencies),
    errors: s.errors,
    perSecond: (s.latencies.length / s.wallMs) * 1000,
    /** The Worker's workerd CPU per answered request (its proxy and the client not included). */
    cpuPerRequestMs: s.cpuMs / (s.latencies.length + s.errors),
  });
  return { concurrency, floor: result(sides.floor), subject: result(sides.subject) };
}
