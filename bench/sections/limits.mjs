// Account limits: the coordinator with pacing on against an emulator enforcing Lambda's real
// account limits (about 1 request/s, launches one per 12 s or five per minute). Two figures:
// N leases created at once all become ready with no lease failed by a 429; and under a 429
// storm, a release still gets its machine terminated quickly (releases take the account's first
// permits). Its own stack: the other sections measure overhead with pacing off.
import { leaseApi, pool } from "../lib/leases.mjs";
import { startBenchStack } from "../lib/stack.mjs";
import { summarize } from "../lib/stats.mjs";

const REAL_LIMITS = { launchIntervalMs: 12_000, launchesPerMinute: 5, requestsPerSecond: 1, requestBurst: 5 };
/** Terminated instances stay listed (as on Lambda for a while), so their terminatedAt is read. */
const KEEP_TERMINATED_MS = 15 * 60_000;
/** Routes a release uses; the storm answers 429 on each of them this many times. */
const STORM_ROUTES = [
  ["GET", "/api/v1/instances"],
  ["POST", "/api/v1/instance-operations/terminate"],
  ["GET", "/api/v1/ssh-keys"],
];
const STORM_TIMES = 15;

export async function measureAccountLimits({ logDir, stateRoot, creates, storm }) {
  const stack = await startBenchStack({ logDir, stateRoot, name: "limits", pacing: true, launchIntervalMs: REAL_LIMITS.launchIntervalMs });
  try {
    const control = stack.emulator.control;
    await control.expect([200], "POST", "/_emulator/config", { body: { ...REAL_LIMITS, terminatedRetentionMs: KEEP_TERMINATED_MS } });
    const api = leaseApi(stack.client, stack.token);
    const burst = await createAtOnce(api, control, creates);
    const releases = await releaseUnderStorm(api, control, burst.ready.slice(0, storm));
    // Release the rest without a storm, and confirm the account is empty.
    await pool(burst.ready.length - storm, 8, async (i) => {
      const lease = burst.ready[storm + i];
      await api.release(lease.id);
      await api.waitFor(lease.id, "released", 40);
    });
    const state = (await control.expect([200], "GET", "/_emulator/state")).json;
    const left = state.instances.filter((i) => i.status !== "terminated").length + state.sshKeys.filter((k) => k.name.startsWith("crabbox-")).length;
    return { creates: burst.summary, storm: releases, leftBehind: left };
  } finally {
    await stack.stop();
  }
}

/** `count` leases created in the same instant; each waited for until ready or ended. */
async function createAtOnce(api, control, count) {
  const started = Date.now();
  const created = await Promise.all(Array.from({ length: count }, () => api.create()));
  // Each client acknowledges as soon as its own lease is ready, as acquire does: waiting for
  // all fifty would let the first ones pass their ack deadline.
  const finals = await Promise.all(
    created.map(async ({ lease }) => {
      const final = await api.waitFor(lease.id, "ready", 40);
      return final.state === "ready" ? { ...(await api.ack(lease.id)).lease, readyAt: final.readyAt } : final;
    }),
  );
  const ready = finals.filter((l) => l.state === "active");
  const failed = finals.filter((l) => l.state !== "active");
  const log = (await control.expect([200], "GET", "/_emulator/state")).json.requests;
  return {
    ready,
    summary: {
      count,
      ready: ready.length,
      failed: failed.map((l) => `${l.id}: ${l.state} ${l.failure?.code ?? ""}`),
      failedByRateLimit: failed.filter((l) => /rate|429/.test(JSON.stringify(l.failure ?? {}))).length,
      allReadyMs: Date.now() - started,
      readyAfter: summarize(ready.map((l) => Date.parse(l.readyAt) - Date.parse(l.createdAt))),
      // The emulator keeps its last 1,000 requests: enough to see whether 429s reached us at all.
      rateLimitedAnswers: log.filter((r) => r.status === 429).length,
      requestsLogged: log.length,
    },
  };
}

/** Releases `leases` at once while the provider answers a burst of 429s on every release route. */
async function releaseUnderStorm(api, control, leases) {
  await control.expect([200], "POST", "/_emulator/faults", {
    body: { faults: STORM_ROUTES.map(([method, path]) => ({ method, path, kind: "rate_limit", times: STORM_TIMES })) },
  });
  const releasedAt = new Map();
  await Promise.all(
    leases.map(async (lease) => {
      releasedAt.set(lease.id, Date.now());
      await api.release(lease.id);
    }),
  );
  const finals = await Promise.all(leases.map((lease) => api.waitFor(lease.id, "released", 40)));
  await control.expect([200], "DELETE", "/_emulator/faults");
  const machines = new Map((await control.expect([200], "GET", "/_emulator/state")).json.machines.map((m) => [m.id, m]));
  const gone = [];
  const terminal = [];
  for (const lease of finals) {
    const at = releasedAt.get(lease.id);
    const terminatedAt = machines.get(lease.resourceId)?.terminatedAt;
    if (terminatedAt !== undefined) gone.push(terminatedAt - at);
    if (lease.endedAt) terminal.push(Date.parse(lease.endedAt) - at);
  }
  return {
    count: leases.length,
    stormPerRoute: STORM_TIMES,
    released: finals.filter((l) => l.state === "released").length,
    releaseToMachineGone: summarize(gone),
    releaseToTerminal: summarize(terminal),
  };
}
