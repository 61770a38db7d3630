// The lease lifecycle end to end inside workerd: API → LeaseObject → fake cloud, with the
// clock injected and alarms fired explicitly.
import { abortAllDurableObjects, env, runDurableObjectAlarm } from "cloudflare:test";
import { overdueLeases } from "../../../src/ledger/leases";
import * as t from "../../../src/lease/transitions";
import { OVERDUE_SLACK_MS } from "../../../src/sweep/overdue";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { call, mintToken, leaseStub, sshPublicKey, useFakeClock } from "../../support/api";
import { driveUntil, inState, leaseState } from "../../support/drive";
import { fakeCloud } from "../../support/fake-cloud";

let owner = 0;
let token: string;

beforeEach(async () => {
  fakeCloud.reset();
  useFakeClock();
  token = await mintToken(`owner${++owner}`);
});

afterEach(() => {
  vi.useRealTimers();
});

async function create(body: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/leases", { token, body: { provider: "fakecloud", sshPublicKey: await sshPublicKey(), ...body } });
  expect(res.status, res.text).toBe(201);
  return res.json;
}

const MINUTE = 60_000;

describe("lease lifecycle", () => {
  it("create → ready → ack → touch → release leaves the cloud empty", async () => {
    const lease = await create();
    expect(lease.state).toBe("provisioning");
    expect(lease.slug).toMatch(/^[a-z]+-[a-z]+-[a-z0-9]{4}$/);

    const ready = await driveUntil(lease.id, token, inState("ready"));
    expect(ready.endpoint).toEqual({ kind: "ssh", host: "127.0.0.1", port: 22, user: "fake" });
    expect(ready.deadlines.ack).toBeDefined();
    expect(fakeCloud.live()).toHaveLength(1);

    const acked = await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    expect(acked.json.state).toBe("active");

    vi.setSystemTime(Date.now() + 10 * MINUTE);
    const touched = await call("POST", `/v1/leases/${lease.slug}/touch`, { token, body: { idleTimeout: "45m" } });
    expect(touched.status).toBe(200);
    expect(touched.json.idleTimeoutSeconds).toBe(45 * 60);
    expect(Date.parse(touched.json.lastTouchAt)).toBe(Date.now());

    const released = await call("POST", `/v1/leases/${lease.id}/release`, { token });
    expect(released.json.state).toBe("releasing");
    const final = await driveUntil(lease.id, token, inState("released"));
    expect(final.endReason).toBe("released_by_user");
    expect(final.endpoint).toBeUndefined();
    expect(fakeCloud.live()).toEqual([]);

    const listed = await call("GET", "/v1/leases", { token });
    expect(listed.json.leases.map((l: any) => [l.id, l.state])).toEqual([[lease.id, "released"]]);
    const events = await call("GET", `/v1/leases/${lease.id}/events`, { token });
    const states = events.json.events.filter((e: any) => e.type === "state").map((e: any) => e.state);
    expect(states).toEqual(["requested", "provisioning", "ready", "active", "releasing", "released"]);
  });

  it("a lease never acknowledged is released at its ack deadline, not before", async () => {
    const lease = await create({ ackDeadline: "2m" });
    const ready = await driveUntil(lease.id, token, inState("ready"));
    const deadline = Date.parse(ready.deadlines.ack);
    expect(deadline - Date.parse(ready.readyAt)).toBe(2 * MINUTE);

    vi.setSystemTime(deadline - 1_000);
    await runDurableObjectAlarm(leaseStub(lease.id));
    expect((await leaseState(lease.id, token)).state).toBe("ready");

    vi.setSystemTime(deadline);
    await runDurableObjectAlarm(leaseStub(lease.id));
    const after = await leaseState(lease.id, token);
    expect(after.state).toBe("releasing");
    expect(after.endReason).toBe("ack_timeout");
    await driveUntil(lease.id, token, inState("released"), 5 * MINUTE);
    expect(fakeCloud.live()).toEqual([]);
  });

  it("an active lease idles out after its idle timeout since the last touch", async () => {
    const lease = await create({ idleTimeout: "30m" });
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });

    vi.setSystemTime(Date.now() + 29 * MINUTE);
    await call("POST", `/v1/leases/${lease.id}/touch`, { token });
    const touchedAt = Date.now();
    vi.setSystemTime(touchedAt + 30 * MINUTE - 1_000);
    await runDurableObjectAlarm(leaseStub(lease.id));
    expect((await leaseState(lease.id, token)).state).toBe("active");

    vi.setSystemTime(touchedAt + 30 * MINUTE);
    await runDurableObjectAlarm(leaseStub(lease.id));
    const after = await leaseState(lease.id, token);
    expect(after.endReason).toBe("idle_timeout");
    await driveUntil(lease.id, token, inState("released"), 5 * MINUTE);
    expect(fakeCloud.live()).toEqual([]);
  });

  it("a busy lease still ends at its TTL", async () => {
    const lease = await create({ ttl: "1h", idleTimeout: "30m" });
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    const ttlAt = Date.parse(lease.createdAt) + 60 * MINUTE;
    for (let t = Date.now() + 20 * MINUTE; t < ttlAt; t += 20 * MINUTE) {
      vi.setSystemTime(t);
      expect((await call("POST", `/v1/leases/${lease.id}/touch`, { token })).status).toBe(200);
      await runDurableObjectAlarm(leaseStub(lease.id));
    }
    vi.setSystemTime(ttlAt);
    await runDurableObjectAlarm(leaseStub(lease.id));
    expect((await leaseState(lease.id, token)).endReason).toBe("ttl_expired");
    await driveUntil(lease.id, token, inState("released"), 5 * MINUTE);
    expect(fakeCloud.live()).toEqual([]);
  });

  it("a capacity error fails the lease with a clear reason and leaves nothing", async () => {
    fakeCloud.inject({ op: "create", kind: "capacity" });
    const lease = await create();
    const final = await driveUntil(lease.id, token, inState("failed", "released"));
    expect(final.state).toBe("failed");
    expect(final.endReason).toBe("provisioning_failed");
    expect(final.failure).toEqual({ code: "provider_capacity", message: "fake create: no capacity" });
    expect(fakeCloud.live()).toEqual([]);
  });

  it("a machine that disappears under an active lease ends it as provider_lost", async () => {
    const lease = await create();
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    fakeCloud.live()[0]!.status = "gone";
    const final = await driveUntil(lease.id, token, inState("released"));
    expect(final.endReason).toBe("provider_lost");
  });

  it("stop parks the machine; resume brings it back; the TTL still destroys it", async () => {
    const lease = await create({ releaseAction: "stop", ttl: "24h" });
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    const parked = await driveUntil(lease.id, token, inState("parked"));
    expect(parked.deadlines.retention).toBeDefined();
    expect(fakeCloud.live().map((m) => m.status)).toEqual(["stopped"]);

    const resumed = await call("POST", `/v1/leases/${lease.id}/resume`, { token });
    expect(resumed.json.state).toBe("provisioning");
    await driveUntil(lease.id, token, inState("ready"));
    expect(fakeCloud.live().map((m) => m.status)).toEqual(["running"]);

    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    const parkedAgain = await driveUntil(lease.id, token, inState("parked"));
    expect(parkedAgain.endReason).toBe("released_by_user");
    // Retention (7 d) counts from the first park, but the 24 h TTL comes first and is a hard end.
    expect(parkedAgain.deadlines.retention).toBe(parked.deadlines.retention);
    const final = await driveUntil(lease.id, token, inState("released"), 8 * 24 * 3_600_000);
    expect(final.endReason).toBe("ttl_expired");
    expect(Date.parse(final.endedAt)).toBeGreaterThanOrEqual(Date.parse(lease.createdAt) + 24 * 3_600_000);
    expect(fakeCloud.live()).toEqual([]);
  });

  it("refuses a release action the provider does not support at request time", async () => {
    const res = await call("POST", "/v1/leases", { token, body: { provider: "lambda", sshPublicKey: await sshPublicKey(), releaseAction: "stop" } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("unsupported_release_action");
  });

  it("long-polls until the lease is ready", async () => {
    const lease = await create();
    const waiting = call("GET", `/v1/leases/${lease.id}?wait=ready&timeout=20s`, { token });
    await runDurableObjectAlarm(leaseStub(lease.id));
    const res = await waiting;
    expect(res.json.state).toBe("ready");
  });
});

describe("write-ahead provider intents", () => {
  it("a lost create response ends with exactly one machine, recovered and later released", async () => {
    fakeCloud.inject({ op: "create", kind: "lost_response" });
    const lease = await create();
    const ready = await driveUntil(lease.id, token, inState("ready"));
    expect(fakeCloud.live()).toHaveLength(1);
    expect(ready.resourceId).toBe(fakeCloud.live()[0]!.id);
    expect(fakeCloud.calls.filter((c) => c.op === "recover")).toHaveLength(1);
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    await driveUntil(lease.id, token, inState("released"));
    expect(fakeCloud.live()).toEqual([]);
  });

  it("an object that dies mid-create recovers the machine by handle after restart", async () => {
    fakeCloud.inject({ op: "create", kind: "hang" });
    const lease = await create();
    const stuck = runDurableObjectAlarm(leaseStub(lease.id)).catch(() => "aborted");
    await vi.waitFor(() => expect(fakeCloud.live()).toHaveLength(1));
    await abortAllDurableObjects(); // the object restarts; the create's answer is lost
    await stuck;

    const ready = await driveUntil(lease.id, token, inState("ready"));
    expect(ready.resourceId).toBe(fakeCloud.live()[0]!.id);
    expect(fakeCloud.live()).toHaveLength(1);
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    await driveUntil(lease.id, token, inState("released"));
    expect(fakeCloud.live()).toEqual([]);
  });

  it("a release decided while the create is in flight still removes the machine", async () => {
    fakeCloud.inject({ op: "create", kind: "hang" });
    const lease = await create();
    const stuck = runDurableObjectAlarm(leaseStub(lease.id)).catch(() => "aborted");
    await vi.waitFor(() => expect(fakeCloud.live()).toHaveLength(1));
    const released = await call("POST", `/v1/leases/${lease.id}/release`, { token });
    expect(released.json.state).toBe("releasing");
    await abortAllDurableObjects();
    await stuck;
    await driveUntil(lease.id, token, inState("released"));
    expect(fakeCloud.live()).toEqual([]);
  });

  it("a touch answers while a provider call is in progress", async () => {
    const lease = await create();
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    fakeCloud.inject({ op: "inspect", kind: "hang" });
    vi.setSystemTime(Date.now() + 61_000); // the health poll is due
    fakeCloud.faults[0]!.kind = "hang";
    const stuck = runDurableObjectAlarm(leaseStub(lease.id)).catch(() => "aborted");
    await vi.waitFor(() => expect(fakeCloud.calls.at(-1)?.op).toBe("inspect"));
    const touched = await call("POST", `/v1/leases/${lease.id}/touch`, { token });
    expect(touched.status).toBe(200);
    expect(Date.parse(touched.json.lastTouchAt)).toBe(Date.now());
    await abortAllDurableObjects();
    await stuck;
  });

  it("retries a failing release with backoff and never abandons the machine", async () => {
    const lease = await create();
    await driveUntil(lease.id, token, inState("ready"));
    fakeCloud.inject({ op: "release", kind: "ambiguous", times: 3 });
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    const final = await driveUntil(lease.id, token, inState("released"));
    expect(final.state).toBe("released");
    expect(fakeCloud.calls.filter((c) => c.op === "release").length).toBeGreaterThanOrEqual(5);
    expect(fakeCloud.live()).toEqual([]);
  });

  it("a create whose outcome is unknown keeps the release looking until a late machine is found", async () => {
    fakeCloud.inject({ op: "create", kind: "ambiguous" }); // fails before creating anything
    const lease = await create();
    await runDurableObjectAlarm(leaseStub(lease.id));
    expect((await call("POST", `/v1/leases/${lease.id}/release`, { token })).json.state).toBe("releasing");
    await runDurableObjectAlarm(leaseStub(lease.id)); // nothing under the handle yet
    expect((await leaseState(lease.id, token)).state).toBe("releasing");
    // The provider finishes the create late: the release must still find and remove it.
    fakeCloud.add(`crabbox-crabbox-local-${lease.id}`, { deploymentId: "crabbox-local", leaseId: lease.id });
    const final = await driveUntil(lease.id, token, inState("released"));
    expect(Date.parse(final.endedAt) - Date.parse(lease.createdAt)).toBeGreaterThanOrEqual(t.CREATE_SETTLE_MS);
    expect(fakeCloud.live()).toEqual([]);
  });
});

describe("the alarm and the index stay honest", () => {
  it("a poke with nothing due does not stop later alarms", async () => {
    const lease = await create({ idleTimeout: "5m" });
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    await leaseStub(lease.id).poke(lease.id); // nothing due: the run ends without awaiting
    const final = await driveUntil(lease.id, token, inState("released"), 20 * MINUTE);
    expect(final.endReason).toBe("idle_timeout");
  });

  it("a healthy lease's index deadline is never stale, so the sweep does not poke it", async () => {
    const lease = await create({ idleTimeout: "30m" });
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    for (let i = 0; i < 10; i++) {
      vi.setSystemTime(Date.now() + 5 * MINUTE);
      await call("POST", `/v1/leases/${lease.id}/touch`, { token });
      await runDurableObjectAlarm(leaseStub(lease.id));
    }
    const row = await env.DB.prepare("SELECT next_deadline_at FROM leases WHERE id = ?").bind(lease.id).first<{ next_deadline_at: number }>();
    expect(row!.next_deadline_at).toBeGreaterThan(Date.now());
    expect(await overdueLeases(env.DB, Date.now() + OVERDUE_SLACK_MS, 0, 100)).not.toContain(lease.id);
  });

  it("a lease released while its admission is in flight ends released, with nothing left", async () => {
    const id = "racyadmission001";
    const creating = call("POST", "/v1/leases", { token, body: { id, provider: "fakecloud", sshPublicKey: await sshPublicKey() } });
    const releasing = call("POST", `/v1/leases/${id}/release`, { token });
    const [created, released] = await Promise.all([creating, releasing]);
    expect([200, 201]).toContain(created.status);
    expect([200, 404]).toContain(released.status); // 404 only if it arrived before the create
    if (released.status === 404) await call("POST", `/v1/leases/${id}/release`, { token });
    const final = await driveUntil(id, token, inState("released"));
    expect(final.state).toBe("released");
    const row = await env.DB.prepare("SELECT live FROM leases WHERE id = ?").bind(id).first<{ live: number }>();
    expect(row?.live ?? 0).toBe(0);
    expect(fakeCloud.live()).toEqual([]);
  });
});
