// Lifecycle: N leases create → ready → ack → release against an emulator that launches, boots
// and terminates instantly, so every millisecond between the provider's events and the lease's
// is the coordinator's own. Times: coordinator timestamps, emulator Date.now(), same machine.
import { readFileSync } from "node:fs";
import net from "node:net";
import { performance } from "node:perf_hooks";
import { pool } from "../lib/leases.mjs";
import { summarize } from "../lib/stats.mjs";

/**
 * While provisioning, a lease asks the provider every QUICK_POLL_MS (its first seconds), then
 * probes the SSH banner: read from the source, so the bench's bound follows the code.
 */
const QUICK_POLL_MS = Number(/const QUICK_POLL_MS = ([\d_]+)/.exec(readFileSync("src/lease/deadlines.ts", "utf8"))?.[1]?.replaceAll("_", ""));

/** Connect and read the `SSH-2.0-` line: what the coordinator's readiness probe does. */
function bannerMs(host, port) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect({ host, port });
    socket.setTimeout(5_000, () => socket.destroy(new Error("banner timeout")));
    socket.once("data", (chunk) => {
      const ok = chunk.toString("latin1").startsWith("SSH-2.0-");
      socket.destroy();
      ok ? resolve(performance.now() - started) : reject(new Error("no SSH banner"));
    });
    socket.once("error", reject);
  });
}

/** Long enough that every terminated instance (and its activeAt) is still listed at the end. */
const KEEP_TERMINATED_MS = 15 * 60_000;

async function oneLifecycle(api, emulator) {
  const { lease, ms: createMs } = await api.create();
  const ready = await api.waitFor(lease.id, "ready");
  const seenReadyAt = Date.now();
  if (ready.state !== "ready") return { id: lease.id, state: ready.state, failed: `ended ${ready.state} before ready` };
  // The two pieces of the detection bound, measured on this very machine and provider.
  const probeMs = await bannerMs(ready.endpoint.host, ready.endpoint.port);
  const inspectMs = (await emulator.control.expect([200], "GET", `/api/v1/instances/${ready.resourceId}`, { token: emulator.apiKey })).ms;
  const { ms: ackMs } = await api.ack(lease.id);
  const releaseAt = Date.now();
  const { ms: releaseMs } = await api.release(lease.id);
  const ended = await api.waitFor(lease.id, "released");
  return {
    id: lease.id,
    resourceId: ready.resourceId,
    state: ended.state,
    createMs,
    ackMs,
    releaseMs,
    createdAt: Date.parse(lease.createdAt),
    readyAt: Date.parse(ready.readyAt),
    seenReadyAt,
    releaseAt,
    endedAt: Date.parse(ended.endedAt),
    probeMs,
    inspectMs,
  };
}

export async function measureLifecycle({ api, emulator, count, concurrency }) {
  await emulator.control.expect([200], "POST", "/_emulator/config", { body: { terminatedRetentionMs: KEEP_TERMINATED_MS } });
  const started = performance.now();
  const runs = await pool(count, concurrency, () => oneLifecycle(api, emulator));
  const wallMs = performance.now() - started;
  const state = (await emulator.control.expect([200], "GET", "/_emulator/state")).json;
  // Terminated instances go back to vanishing at once: later sections list the account often.
  await emulator.control.expect([200], "POST", "/_emulator/config", { body: { terminatedRetentionMs: 0 } });

  const activeAt = new Map(state.machines.map((m) => [m.id, m.activeAt]));
  const ids = new Set(runs.map((r) => r.id));
  const ours = state.instances.filter((i) => ids.has(i.tags?.find((t) => t.key === "crabbox-lease")?.value));
  const leftBehind = {
    notReleased: runs.filter((r) => r.state !== "released").map((r) => `${r.id}: ${r.state}${r.failed ? ` (${r.failed})` : ""}`),
    instancesNotTerminated: ours.filter((i) => i.status !== "terminated").map((i) => `${i.id}: ${i.status}`),
    sshKeysLeft: state.sshKeys.filter((k) => [...ids].some((id) => k.name.endsWith(`-${id}`))).map((k) => k.name),
  };
  const done = runs.filter((r) => r.state === "released" && activeAt.get(r.resourceId) !== undefined);
  const phase = (f) => summarize(done.map(f));
  const probe = phase((r) => r.probeMs);
  const inspect = phase((r) => r.inspectMs);
  return {
    // What bounds detection: a machine becomes active at a random moment within a poll
    // interval, then one inspect and one banner probe follow. The median lag should stay
    // within one interval plus those two, measured here in the same run.
    detectionBound: { pollIntervalMs: QUICK_POLL_MS, probe, inspect, boundMs: QUICK_POLL_MS + probe.median + inspect.median },
    count,
    concurrency,
    wallMs,
    perSecond: (count / wallMs) * 1000,
    measured: done.length,
    phases: {
      createCall: phase((r) => r.createMs),
      createdToProviderActive: phase((r) => activeAt.get(r.resourceId) - r.createdAt),
      detectionLag: phase((r) => r.readyAt - activeAt.get(r.resourceId)),
      readyToClient: phase((r) => r.seenReadyAt - r.readyAt),
      ackCall: phase((r) => r.ackMs),
      releaseCall: phase((r) => r.releaseMs),
      releaseToReleased: phase((r) => r.endedAt - r.releaseAt),
    },
    leftBehind,
    leftBehindCount: leftBehind.notReleased.length + leftBehind.instancesNotTerminated.length + leftBehind.sshKeysLeft.length,
  };
}
