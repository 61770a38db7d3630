// The settle policy of ambiguous creates (DESIGN.md "Ambiguity settles"): until the first
// ambiguous attempt has settled, a lease never creates anew and never goes terminal.
import { describe, expect, it } from "vitest";
import { planStep } from "../../../src/lease/deadlines";
import type { LeaseRecord } from "../../../src/lease/record";
import { leaseRecord, MIN, T } from "../../support/lease-record";
import * as t from "../../../src/lease/transitions";

const SETTLE = t.CREATE_SETTLE_MS;

function provisioning(overrides: Partial<LeaseRecord> = {}): LeaseRecord {
  return t.admit(leaseRecord(overrides), T);
}

/** Attempt 1 is sent at T and its answer is lost. */
function afterAmbiguousAttempt(overrides: Partial<LeaseRecord> = {}): LeaseRecord {
  const sent = t.startAttempt(provisioning(overrides), T);
  return t.createFailed(sent, T + 15_000, { kind: "ambiguous", message: "timed out" });
}

describe("an ambiguous create settles before anything else happens", () => {
  it("a recovery that finds nothing keeps looking inside the settle window instead of launching again", () => {
    let rec = afterAmbiguousAttempt();
    expect(rec.unsettled).toEqual({ since: T, until: T + SETTLE });
    for (let now = T + 17_000; now < T + SETTLE; now = rec.op!.nextAt) {
      expect(planStep(rec, now)).toEqual({ kind: "recover" });
      rec = t.recovered(rec, now, { kind: "absent" });
      expect(rec.op?.status).toBe("ambiguous");
    }
    // Settled with nothing found: only now may a second create go out.
    rec = t.recovered(rec, T + SETTLE, { kind: "absent" });
    expect(rec.unsettled).toBeUndefined();
    expect(planStep(rec, T + SETTLE)).toEqual({ kind: "create" });
  });

  it("a definite failure on a later attempt still waits for the first ambiguous one before ending", () => {
    const settled = t.recovered(afterAmbiguousAttempt(), T + SETTLE, { kind: "absent" });
    // Attempt 2 is ambiguous too, then attempt 3 meets `capacity` at once.
    const second = t.createFailed(t.startAttempt(settled, T + SETTLE), T + SETTLE + 1_000, { kind: "ambiguous", message: "503" });
    const third = t.createFailed(t.startAttempt(t.recovered(second, T + 2 * SETTLE, { kind: "absent" }), T + 2 * SETTLE), T + 2 * SETTLE, { kind: "capacity", message: "none" });
    expect(third.state).toBe("releasing");
    // Attempt 2 settled at 2×SETTLE+1s... it was sent at T+SETTLE, so its window ended at T+2×SETTLE.
    const early = t.createFailed(t.startAttempt(second, T + SETTLE + 2_000), T + SETTLE + 2_000, { kind: "capacity", message: "none" });
    expect(early.state).toBe("releasing");
    expect(early.op?.settleUntil).toBe(T + 2 * SETTLE);
    const done = t.releaseStepped(early, T + SETTLE + 3_000, { done: true });
    expect(done.state).toBe("releasing"); // attempt 2 could still surface
    expect(t.releaseStepped(done, T + 2 * SETTLE, { done: true }).state).toBe("failed");
  });

  it("a release decided while a create was in flight stops waiting once that create answers with its resource", () => {
    // Found by the chaos suite: a fal lease released mid-create kept "releasing" for the whole
    // ten-minute window although its create had answered and the instance was deleted.
    const inFlight = t.startAttempt(provisioning({ createPolicy: { settleMs: 10 * MIN, idempotent: true } }), T);
    const releasing = t.beginRelease(inFlight, T + 100, { reason: "released_by_user", action: "destroy" });
    expect(releasing.op?.settleUntil).toBe(T + 100 + 10 * MIN);
    const found = t.resourceFound(releasing, T + 200, { handle: "h", id: "inst_1" });
    expect(found.op?.settleUntil).toBeUndefined();
    expect(t.releaseStepped(found, T + 1_000, { done: true }).state).toBe("released");
  });

  it("a release decided after the attempts gave up still looks until the first ambiguous attempt settled", () => {
    const rec = afterAmbiguousAttempt();
    const released = t.beginRelease(rec, T + 20_000, { reason: "released_by_user", action: "destroy" });
    expect(released.op?.settleUntil).toBe(T + SETTLE);
  });

  it("an attempt found still in flight after a restart counts as unknown from when it was sent", () => {
    const sent = t.startAttempt(provisioning({ createPolicy: { settleMs: 5 * MIN, idempotent: false } }), T);
    const later = T + t.OPERATION_STALL_MS;
    expect(planStep(sent, later)).toEqual({ kind: "recover" });
    const looked = t.recovered(sent, later, { kind: "absent" });
    expect(looked.unsettled).toEqual({ since: T, until: T + 5 * MIN });
    expect(looked.op?.status).toBe("ambiguous");
  });

  it("where create is idempotent by handle, replaying it inside the window is the recovery", () => {
    const rec = afterAmbiguousAttempt({ createPolicy: { settleMs: 9 * MIN, idempotent: true } });
    expect(rec.unsettled?.until).toBe(T + 9 * MIN);
    expect(planStep(rec, rec.op!.nextAt)).toEqual({ kind: "create" });
    expect(planStep(rec, T + 9 * MIN)).toEqual({ kind: "recover" });
    // A replay's own ambiguous outcome does not move the window: the key's cache counts from the first send.
    const replayed = t.createFailed(t.startAttempt(rec, T + 5 * MIN), T + 5 * MIN, { kind: "ambiguous", message: "lost" });
    expect(replayed.unsettled).toEqual({ since: T, until: T + 9 * MIN });
  });

  it("a resource found under the handle settles it", () => {
    const found = t.recovered(afterAmbiguousAttempt(), T + 20_000, { kind: "found", ref: { handle: "h", id: "i-1" } });
    expect(found.unsettled).toBeUndefined();
    expect(found.resource?.id).toBe("i-1");
  });

  it("a 429 is definite: no unsettled window, retried after the provider's delay without growing backoff", () => {
    const sent = t.startAttempt(provisioning(), T);
    const limited = t.createFailed(sent, T, { kind: "rate_limited", message: "429", retryAfterMs: 12_000 });
    expect(limited.unsettled).toBeUndefined();
    expect(limited.op).toMatchObject({ status: "due", nextAt: T + 12_000, failures: 0 });
    const again = t.createFailed(t.startAttempt(limited, T + 12_000), T + 12_000, { kind: "rate_limited", message: "429", retryAfterMs: 12_000 });
    expect(again.op).toMatchObject({ nextAt: T + 24_000, failures: 0 });
  });
});

describe("a release backs off on consecutive failures only", () => {
  it("many successful polls followed by one failure retry after the base delay, not minutes later", () => {
    let rec = t.beginRelease({ ...provisioning(), state: "active", op: undefined }, T, { reason: "released_by_user", action: "destroy" });
    let now = T;
    for (let i = 0; i < 12; i++) {
      rec = t.releaseStepped(t.startAttempt(rec, now), now, { done: false, detail: "terminating" });
      now = rec.op!.nextAt;
    }
    rec = t.releaseFailed(t.startAttempt(rec, now), now, { kind: "ambiguous", message: "503" });
    expect(rec.op!.nextAt - now).toBe(2_000);
    for (let i = 0; i < 10; i++) rec = t.releaseFailed(t.startAttempt(rec, now), now, { kind: "ambiguous", message: "503" });
    expect(rec.op!.nextAt - now).toBe(30_000); // capped low: the machine bills while we wait
  });

  it("waiting out a settle window looks every 10 s, not every 2 s", () => {
    const rec = t.beginRelease(afterAmbiguousAttempt(), T + 20_000, { reason: "released_by_user", action: "destroy" });
    const next = t.releaseStepped(t.startAttempt(rec, T + 20_000), T + 20_000, { done: true });
    expect(next.op!.nextAt).toBe(T + 30_000);
  });
});

describe("gone needs a second look", () => {
  const active = (): LeaseRecord => ({ ...provisioning(), op: undefined, state: "active", resource: { handle: "h", id: "i-1" }, pollAt: T });
  const running = { phase: "running", ready: true, detail: "active", endpoint: { kind: "ssh", host: "10.0.0.1", port: 22, user: "ubuntu" } } as const;

  it("one gone answer on a live lease schedules a recheck; a second ends it", () => {
    const first = t.inspected(active(), T, { phase: "gone", detail: "404" }, false);
    expect(first.state).toBe("active");
    expect(first.pollAt).toBe(T + 5_000);
    const second = t.inspected(first, T + 5_000, { phase: "gone", detail: "404" }, false);
    expect(second.state).toBe("releasing");
    expect(second.endReason).toBe("provider_lost");
  });

  it("a running answer in between forgets the first sighting", () => {
    const first = t.inspected(active(), T, { phase: "gone", detail: "404" }, false);
    const back = t.inspected(first, T + 5_000, running, true);
    expect(back.goneSeenAt).toBeUndefined();
    expect(t.inspected(back, T + 65_000, { phase: "gone", detail: "404" }, false).state).toBe("active");
  });

  it("refreshed adapter data replaces the stored data", () => {
    const next = t.inspected(active(), T, { ...running, data: { resourceVersion: "42" } }, true);
    expect(next.resource).toEqual({ handle: "h", id: "i-1", data: { resourceVersion: "42" } });
  });
});

describe("stop is not an escape from the deadlines", () => {
  const ready = (releaseAction: "stop" | "destroy"): LeaseRecord => ({
    ...provisioning({ releaseAction }),
    op: undefined,
    state: "ready",
    readyAt: T,
    resource: { handle: "h", id: "i-1" },
  });

  it("a missed acknowledgement destroys even when the release action is stop", () => {
    const expired = t.expire(ready("stop"), T + 2 * MIN, "ack_timeout");
    expect(expired.op).toMatchObject({ kind: "release", action: "destroy" });
  });

  it("the TTL destroys a stop lease, and ends a parked one", () => {
    const active = { ...ready("stop"), state: "active" as const };
    expect(t.expire(active, T + 120 * MIN, "ttl_expired").op?.action).toBe("destroy");
    expect(t.expire(active, T + 30 * MIN, "idle_timeout").op?.action).toBe("stop");
  });

  it("a parked lease cannot be resumed past its TTL", () => {
    const parking = t.beginRelease({ ...ready("stop"), state: "active" }, T, { reason: "idle_timeout", action: "stop" });
    const parked = t.releaseStepped(parking, T + MIN, { done: true });
    expect(() => t.requestResume(parked, T + 120 * MIN)).toThrow(expect.objectContaining({ code: "lease_expired" }));
  });

  it("retention counts from the first park and survives resume and re-park; the end reason survives parking", () => {
    const parking = t.beginRelease({ ...ready("stop"), state: "active" }, T, { reason: "idle_timeout", action: "stop" });
    const parked = t.releaseStepped(parking, T + MIN, { done: true });
    expect(parked.endReason).toBe("idle_timeout");
    const retainUntil = parked.retainUntil!;
    expect(retainUntil).toBe(T + MIN + parked.parkRetentionMs);
    const resumed = t.requestResume(parked, T + 10 * MIN);
    const again = t.beginRelease({ ...resumed, state: "active", op: undefined }, T + 20 * MIN, { reason: "released_by_user", action: "stop" });
    expect(t.releaseStepped(again, T + 21 * MIN, { done: true }).retainUntil).toBe(retainUntil);
    const refused = t.resumeFailed({ ...t.requestResume(parked, T + 30 * MIN) }, T + 31 * MIN, { kind: "invalid", message: "no" });
    expect(refused.retainUntil).toBe(retainUntil);
  });
});
