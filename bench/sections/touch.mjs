// Touch (heartbeat) against its floor: at each concurrency every caller owns one active lease
// and alternates with the floor route on that same lease's object. Then the same comparison at
// concurrency 1 as the number of stored leases grows.
import { sideBySide } from "../lib/compare.mjs";
import { NO_CAPACITY_TYPE } from "../lib/stack.mjs";
import { pool } from "../lib/leases.mjs";
import { cpuMs } from "../lib/procs.mjs";
import { performance } from "node:perf_hooks";

export async function touchVsFloor({ api, leases, concurrency, perRound, rounds, workerdPid }) {
  if (leases.length < concurrency) throw new Error(`need ${concurrency} active leases, have ${leases.length}`);
  return sideBySide({
    concurrency,
    perRound,
    rounds,
    cpu: () => cpuMs(workerdPid),
    floor: (caller) => api.floor(leases[caller].id),
    subject: (caller) => api.touch(leases[caller].id),
  });
}

const FILL_CONCURRENCY = 48;

/**
 * Adds `count` stored leases cheaply and honestly: real leases through the public API for a
 * type the emulated account has no capacity for. Each one is admitted (D1 row), its object asks
 * Lambda to launch, gets the capacity error, cleans up its SSH key and ends `failed`. No machine
 * ever runs, which is what makes 10,000 of them affordable. Waits until every one has ended.
 */
export async function addStoredLeases({ api, count }) {
  const started = performance.now();
  const ended = await pool(count, FILL_CONCURRENCY, async () => {
    const { lease } = await api.create({ type: NO_CAPACITY_TYPE });
    return (await api.waitFor(lease.id, "released")).state;
  });
  const byState = {};
  for (const state of ended) byState[state] = (byState[state] ?? 0) + 1;
  return { added: count, byState, wallMs: performance.now() - started };
}

/** Leases in the D1 index, counted through the admin list (100 a page): what "stored" means. */
export async function countIndexedLeases({ client, adminToken }) {
  let count = 0;
  let cursor;
  do {
    const query = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page = (await client.expect([200], "GET", `/v1/admin/leases?${query}`, { token: adminToken })).json;
    count += page.leases.length;
    cursor = page.nextCursor;
  } while (cursor);
  return count;
}
