// The lease machine without a runtime: pure transitions and deadline arithmetic.
import { describe, expect, it } from "vitest";
import { backoffMs, deadlines, pollDelayMs, expiredDeadline, HEALTH_POLL_MS, nextAlarmAt, planStep, PROVISION_TIMEOUT_MS } from "../../../src/lease/deadlines";
import { leaseRecord, MIN, T } from "../../support/lease-record";
import * as t from "../../../src/lease/transitions";

const lease = leaseRecord;

const running = { phase: "running", ready: false, detail: "active", endpoint: { kind: "ssh", host: "10.0.0.1", port: 22, user: "ubuntu" } } as const;

describe("deadlines", () => {
  it("a ready lease's alarm is the earliest of poll, ack deadline and TTL", () => {
    const rec = lease({ state: "ready", readyAt: T + MIN, pollAt: T + MIN + HEALTH_POLL_MS });
    expect(deadlines(rec)).toEqual({ ttl: T + 120 * MIN, ack: T + 3 * MIN });
    expect(nextAlarmAt(rec)).toBe(T + 2 * MIN);
    expect(nextAlarmAt({ ...rec, pollAt: undefined })).toBe(T + 3 * MIN);
  });

  it("an active lease idles out from its last touch, but never outlives its TTL", () => {
    const rec = lease({ state: "active", lastTouchAt: T + 100 * MIN });
    expect(expiredDeadline(rec, T + 119 * MIN)).toBeUndefined();
    expect(expiredDeadline(rec, T + 120 * MIN)).toBe("ttl_expired");
    expect(expiredDeadline({ ...rec, lastTouchAt: T }, T + 30 * MIN)).toBe("idle_timeout");
  });

  it("terminal leases have no alarm; parked ones only their retention", () => {
    expect(nextAlarmAt(lease({ state: "released" }))).toBeUndefined();
    expect(nextAlarmAt(lease({ state: "parked", retainUntil: T + 5 * MIN }))).toBe(T + 5 * MIN);
  });

  it("provisioning gives up after the provision timeout", () => {
    const rec = lease({ state: "provisioning", provisionStartedAt: T });
    expect(planStep(rec, T + PROVISION_TIMEOUT_MS)).toEqual({ kind: "expire", reason: "provisioning_failed" });
  });

  it("polls quickly at first, then every 2 s, then every 10 s", () => {
    expect([0, 4_999, 5_000, 119_999, 120_000].map(pollDelayMs)).toEqual([500, 500, 2_000, 2_000, 10_000]);
  });

  it("backoff doubles and is capped", () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n))).toEqual([2_000, 4_000, 8_000, 16_000]);
    expect(backoffMs(30)).toBe(5 * MIN);
  });
});

describe("transitions", () => {
  it("an in-flight create found after a restart is recovered, not repeated", () => {
    const admitted = t.admit(lease(), T);
    expect(planStep(admitted, T)).toEqual({ kind: "create" });
    const inFlight = t.startAttempt(admitted, T);
    expect(inFlight.op).toMatchObject({ status: "in_flight", attempts: 1 });
    expect(planStep(inFlight, T + 1_000)).toBeUndefined(); // still plausibly running
    expect(planStep(inFlight, T + t.OPERATION_STALL_MS)).toEqual({ kind: "recover" });
  });

  it("ambiguous failures recover by handle; definite ones release what the handle created", () => {
    const inFlight = t.startAttempt(t.admit(lease(), T), T);
    const ambiguous = t.createFailed(inFlight, T, { kind: "ambiguous", message: "timeout" });
    expect(ambiguous.op).toMatchObject({ kind: "create", status: "ambiguous", nextAt: T + 2_000 });
    const definite = t.createFailed(inFlight, T, { kind: "capacity", message: "none" });
    expect(definite.state).toBe("releasing");
    expect(definite.op).toMatchObject({ kind: "release", action: "destroy" });
    expect(definite.failure).toEqual({ code: "provider_capacity", message: "none" });
  });

  it("recovery binds exactly one match, retries when absent, refuses to guess between several", () => {
    const ambiguous = t.createFailed(t.startAttempt(t.admit(lease(), T), T), T, { kind: "ambiguous", message: "x" });
    const found = t.recovered(ambiguous, T, { kind: "found", ref: { handle: "h", id: "i-1" } });
    expect(found.resource).toEqual({ handle: "h", id: "i-1" });
    expect(found.op).toBeUndefined();
    // Absent, but the ambiguous attempt has not settled: keep looking, never create anew.
    expect(t.recovered(ambiguous, T, { kind: "absent" }).op).toMatchObject({ status: "ambiguous" });
    expect(t.recovered(ambiguous, T + t.CREATE_SETTLE_MS, { kind: "absent" }).op).toMatchObject({ status: "due", nextAt: T + t.CREATE_SETTLE_MS });
    const several = t.recovered(ambiguous, T, { kind: "ambiguous", count: 2 });
    expect(several.op?.status).toBe("ambiguous");
    expect(several.resource).toBeUndefined();
  });

  it("a result that arrives after the lease decided to release is recorded, and the release proceeds", () => {
    const inFlight = t.startAttempt(t.admit(lease(), T), T);
    const releasing = t.beginRelease(inFlight, T, { reason: "released_by_user", action: "destroy" });
    const after = t.resourceFound(releasing, T, { handle: "h", id: "i-9" });
    expect(after.state).toBe("releasing");
    expect(after.resource?.id).toBe("i-9");
    expect(after.op?.kind).toBe("release");
  });

  it("ready needs both a running machine and an answering route", () => {
    const provisioning = { ...t.admit(lease(), T), op: undefined, pollAt: T };
    expect(t.inspected(provisioning, T, running, false).state).toBe("provisioning");
    const ready = t.inspected(provisioning, T, running, true);
    expect(ready.state).toBe("ready");
    expect(ready.endpoint).toEqual(running.endpoint);
  });

  it("never abandons a release: failures retry, success ends in released or failed", () => {
    const releasing = t.beginRelease(lease({ state: "active" }), T, { reason: "idle_timeout", action: "destroy" });
    const failed = t.releaseFailed(t.startAttempt(releasing, T), T, { kind: "auth", message: "bad key" });
    expect(failed.state).toBe("releasing");
    expect(failed.op).toMatchObject({ status: "due", lastError: "bad key" });
    expect(t.releaseStepped(failed, T, { done: true }).state).toBe("released");
    const provFailed = t.createFailed(t.startAttempt(t.admit(lease(), T), T), T, { kind: "invalid", message: "bad type" });
    expect(t.releaseStepped(provFailed, T, { done: true }).state).toBe("failed");
  });

  it("a release step that is not done yet may still refresh the resource's data", () => {
    const releasing = t.beginRelease(lease({ state: "active", resource: { handle: "h", id: "i-1", data: { sshKeyId: "k" } } }), T, { reason: "idle_timeout", action: "destroy" });
    const stepped = t.releaseStepped(t.startAttempt(releasing, T), T, { done: false, detail: "terminate rate limited", data: { sshKeyId: "k", verifiedLive: "i-1" } });
    expect(stepped.resource?.data).toEqual({ sshKeyId: "k", verifiedLive: "i-1" });
    expect(stepped.op).toMatchObject({ status: "due", failures: 0 });
    expect(t.releaseStepped(t.startAttempt(stepped, T), T, { done: false, detail: "terminating" }).resource?.data).toEqual({ sshKeyId: "k", verifiedLive: "i-1" });
  });

  it("stop parks the lease with a retention deadline; releasing a parked lease destroys", () => {
    const stopping = t.beginRelease(lease({ state: "active", releaseAction: "stop" }), T, { reason: "released_by_user", action: "stop" });
    const parked = t.releaseStepped(stopping, T, { done: true });
    expect(parked.state).toBe("parked");
    expect(parked.retainUntil).toBe(T + parked.parkRetentionMs);
    expect(parked.endReason).toBe("released_by_user");
    expect(t.beginRelease(parked, T, { reason: "released_by_user", action: "stop" }).op?.action).toBe("destroy");
  });

  it("touch and ack are refused outside the states they belong to", () => {
    expect(() => t.touch(lease({ state: "released" }), T)).toThrow(t.TransitionError);
    expect(() => t.acknowledge(lease({ state: "provisioning" }), T)).toThrow(/only a ready lease/);
    expect(t.touch(lease({ state: "active" }), T + 5, 10 * MIN)).toMatchObject({ lastTouchAt: T + 5, idleTimeoutMs: 10 * MIN });
  });

  it("a lease released before admission had no provider call and ends at once", () => {
    expect(t.beginRelease(lease(), T, { reason: "released_by_user", action: "destroy" }).state).toBe("released");
  });
});
