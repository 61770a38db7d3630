// Pure transitions of the lease machine: (record, event, now) → record. No I/O, no clock:
// the LeaseObject feeds them provider outcomes and persists what they return.

import type { EndReason } from "../contract/lease";
import type { ProviderErrorKind, ReleaseAction, ReleaseStep, ResourceRef, ResourceStatus, RecoverResult } from "../providers/types";
import { backoffMs, GONE_RECHECK_MS, HEALTH_POLL_MS, pollDelayMs, RELEASE_RETRY_MAX_MS, SETTLE_LOOK_MS } from "./deadlines";
import { isTerminal, type CreateSettlePolicy, type LeaseRecord, type Operation } from "./record";

/** A create that keeps coming back ambiguous-then-absent is given up after this many tries. */
export const MAX_CREATE_ATTEMPTS = 6;
/** A provider step still in flight after this long belongs to an execution that died. */
export const OPERATION_STALL_MS = 2 * 60_000;
/**
 * The settle window of providers that declare none: after a create whose outcome is unknown
 * (timed out, lost, cut short by a restart) a resource can still appear under the handle this
 * long. Longer than a request timeout plus provider-side lag.
 */
export const CREATE_SETTLE_MS = 2 * 60_000;
export const DEFAULT_CREATE_POLICY: CreateSettlePolicy = { settleMs: CREATE_SETTLE_MS, idempotent: false };

export interface Failure {
  kind: ProviderErrorKind;
  message: string;
  retryAfterMs?: number;
}

export class TransitionError extends Error {
  constructor(readonly code: "invalid_state" | "unsupported_release_action" | "lease_expired", message: string) {
    super(message);
  }
}

function op(kind: Operation["kind"], now: number, action?: ReleaseAction): Operation {
  return { kind, action, status: "due", attempts: 0, failures: 0, firstAt: now, nextAt: now };
}

/**
 * The operation after one more failed call: backoff grows with consecutive failures only. A
 * rate limit is the account's pace, not this lease's fault: it waits the time it was told
 * (the pacing point spreads waiters out) and does not grow the backoff.
 */
function failedOnce(o: Operation, now: number, failure: Failure, status: Operation["status"], capMs?: number): Operation {
  if (failure.kind === "rate_limited") {
    return { ...o, status, nextAt: now + (failure.retryAfterMs ?? backoffMs(1)), lastError: failure.message };
  }
  const failures = (o.failures ?? 0) + 1;
  const nextAt = now + Math.max(failure.retryAfterMs ?? 0, backoffMs(failures, capMs));
  return { ...o, status, failures, nextAt, lastError: failure.message };
}

const policyOf = (rec: LeaseRecord) => rec.createPolicy ?? DEFAULT_CREATE_POLICY;

/**
 * Remembers that a create sent at `sentAt` may still surface. The window only ever grows: the
 * lease neither creates anew nor goes terminal until every unknown attempt has settled.
 */
function unsettle(rec: LeaseRecord, sentAt: number): LeaseRecord {
  // An idempotent create's replays reuse the first request's key, whose cache counts from that
  // first send: a replay never extends the window (fal: 10 minutes from the first request).
  if (rec.unsettled && policyOf(rec).idempotent) return rec;
  const until = sentAt + policyOf(rec).settleMs;
  if (rec.unsettled && rec.unsettled.until >= until) return rec;
  return { ...rec, unsettled: { since: rec.unsettled?.since ?? sentAt, until } };
}

/** An attempt still marked in flight when we look at it again died with its execution. */
function settleStalled(rec: LeaseRecord): LeaseRecord {
  const o = rec.op;
  if (o?.kind !== "create" || o.status !== "in_flight") return rec;
  return unsettle(rec, o.sentAt ?? o.firstAt);
}

export function admit(rec: LeaseRecord, now: number): LeaseRecord {
  if (rec.state !== "requested") return rec;
  return { ...rec, state: "provisioning", provisionStartedAt: now, pollAt: undefined, op: op("create", now) };
}

export interface ReleaseOptions {
  reason: EndReason;
  action: ReleaseAction;
  failure?: { code: string; message: string };
  /** The provider's view may lag ours (a machine reported gone right after launch). */
  settle?: boolean;
}

/** Decide to end the lease. Nothing is abandoned: a release operation is written ahead. */
export function beginRelease(rec: LeaseRecord, now: number, options: ReleaseOptions): LeaseRecord {
  if (isTerminal(rec.state) || rec.state === "releasing") return rec;
  const base = { ...rec, endReason: options.reason, failure: options.failure ?? rec.failure, endpoint: undefined, pollAt: undefined };
  if (rec.state === "requested" || rec.state === "queued") {
    // Not admitted yet, or waiting in line after creates that definitely made nothing: there is
    // nothing to remove.
    return { ...base, state: "released", endedAt: now, op: undefined };
  }
  // A parked machine is already stopped: ending the lease means destroying it.
  const action = rec.state === "parked" ? "destroy" : options.action;
  const release = op("release", now, action);
  // Every create attempt whose outcome is unknown must settle before "nothing there" is
  // believed: the one in flight right now, and any earlier one the record remembers.
  const inFlight = rec.op?.kind === "create" && rec.op.status === "in_flight";
  const until = [rec.unsettled?.until, inFlight || options.settle ? now + policyOf(rec).settleMs : undefined].filter((x) => x !== undefined);
  if (until.length) release.settleUntil = Math.max(...until);
  return { ...base, state: "releasing", op: release };
}

/**
 * A passed deadline ends the lease. Only idle and a user's own release may park a machine (and
 * the TTL, where a stopped machine costs nothing: stopIsFree): a missed acknowledgement means it
 * was never used, and retention is a hard end.
 */
export function expire(rec: LeaseRecord, now: number, reason: EndReason): LeaseRecord {
  if (reason === "capacity_timeout") {
    const failure = { code: "capacity_timeout", message: "no acceptable type had capacity within the wait the request allowed; nothing was created" };
    return { ...rec, state: "failed", endReason: reason, failure, endedAt: now, op: undefined, pollAt: undefined };
  }
  if (reason === "resume_failed") {
    // The machine could not get its resources back in time: stop it again, keep it parked.
    const failure = { code: "resume_timeout", message: "the machine did not come back within the resume deadline; it stays parked" };
    return beginRelease(rec, now, { reason, action: "stop", failure });
  }
  const mayPark = reason === "idle_timeout" || (reason === "ttl_expired" && rec.stopIsFree === true);
  const failure = reason === "provisioning_failed" ? { code: "provisioning_timeout", message: "the machine did not become ready in time" } : undefined;
  return beginRelease(rec, now, { reason, action: mayPark ? rec.releaseAction : "destroy", failure });
}

/**
 * Persisted before the provider request leaves. If the object dies mid-call, the alarm at
 * `nextAt` finds the operation still in flight and treats its outcome as unknown.
 */
export function startAttempt(rec: LeaseRecord, now: number): LeaseRecord {
  const prior = settleStalled(rec);
  if (!prior.op) return prior;
  return { ...prior, op: { ...prior.op, status: "in_flight", attempts: prior.op.attempts + 1, sentAt: now, nextAt: now + OPERATION_STALL_MS } };
}

/** The resource is known: record it whatever the lease decided meanwhile. */
export function resourceFound(rec: LeaseRecord, now: number, ref: ResourceRef): LeaseRecord {
  // Found under the handle: whatever an unknown attempt did, this is what it did.
  // A create that learned the exact price (a market's offer) replaces the reserved estimate.
  const next = { ...rec, resource: ref, unsettled: undefined, ...(ref.price ? { price: ref.price } : {}) };
  if (rec.op?.kind !== "create") {
    // A release was decided during the call: it proceeds. The create it waited on has answered,
    // so nothing is left to settle: "done" no longer waits out the settle window.
    return rec.op?.kind === "release" && rec.op.settleUntil !== undefined ? { ...next, op: { ...rec.op, settleUntil: undefined } } : next;
  }
  return { ...next, op: undefined, pollAt: rec.state === "provisioning" ? now : rec.pollAt };
}

export function createFailed(rec: LeaseRecord, now: number, failure: Failure): LeaseRecord {
  const o = rec.op;
  if (o?.kind !== "create") return rec;
  if (failure.kind === "rate_limited") {
    // A 429 (or the pacing point's refusal) is definite: nothing was created. Slow down, retry.
    return { ...rec, op: failedOnce(o, now, failure, rec.unsettled ? "ambiguous" : "due") };
  }
  if (failure.kind === "ambiguous") {
    // It may have taken effect: look it up by handle before trying again.
    const unsettled = unsettle(rec, o.sentAt ?? now);
    const next = failedOnce(o, now, failure, "ambiguous");
    return { ...unsettled, op: { ...next, ambiguousOutcomes: (o.ambiguousOutcomes ?? 0) + 1 } };
  }
  if (failure.kind === "capacity") {
    const waiting = noCapacity(rec, now);
    if (waiting) return waiting;
  }
  return beginRelease({ ...rec, op: undefined }, now, {
    reason: "provisioning_failed",
    action: "destroy",
    failure: { code: `provider_${failure.kind}`, message: failure.message },
  });
}

/**
 * A definite "no capacity" (nothing was created): try the next acceptable type; once every type
 * was tried, wait in line if the request allows; a granted turn that found none goes back to
 * its place in line. Undefined: the lease fails as before.
 */
function noCapacity(rec: LeaseRecord, now: number): LeaseRecord | undefined {
  const o = rec.op!;
  const queue = rec.queue;
  if (queue?.grantedType !== undefined) {
    if (now >= queue.until) return undefined;
    return { ...rec, state: "queued", op: undefined, typeIndex: 0, queue: { ...queue, grantedType: undefined, registered: true } };
  }
  const types = rec.request.types ?? [];
  const next = (rec.typeIndex ?? 0) + 1;
  if (next < types.length) return { ...rec, typeIndex: next, op: { ...o, status: "due", failures: 0, nextAt: now } };
  if (!rec.request.waitForCapacityMs) return undefined;
  return { ...rec, state: "queued", op: undefined, typeIndex: 0, pollAt: now, queue: { since: now, until: now + rec.request.waitForCapacityMs, registered: false } };
}

/** The provider's line knows the lease now. */
export function queued(rec: LeaseRecord): LeaseRecord {
  if (rec.state !== "queued" || !rec.queue) return rec;
  return { ...rec, queue: { ...rec.queue, registered: true }, pollAt: undefined };
}

/** Capacity for `type` appeared and this lease is first in line for it: create it now. */
export function granted(rec: LeaseRecord, now: number, type: string): LeaseRecord {
  if (rec.state !== "queued" || !rec.queue) return rec;
  const index = Math.max(0, (rec.request.types ?? [rec.request.type]).indexOf(type));
  return { ...rec, state: "provisioning", provisionStartedAt: now, typeIndex: index, op: op("create", now), queue: { ...rec.queue, grantedType: type } };
}

export function recovered(rec: LeaseRecord, now: number, result: RecoverResult): LeaseRecord {
  if (rec.op?.kind !== "create") return rec;
  if (result.kind === "found") return resourceFound(rec, now, result.ref);
  if (result.kind === "unresolvable") {
    // Fail closed: nothing known to release, and nothing to look up. The runner has recorded
    // the unresolved create for the operator (and the sweep report) before this commit.
    const failure = { code: "create_unresolved", message: result.detail };
    const base = { ...rec, op: undefined, unsettled: undefined, pollAt: undefined, endpoint: undefined };
    return { ...base, state: "failed", endReason: "provisioning_failed", failure, endedAt: now };
  }
  const looked = settleStalled(rec);
  const o = looked.op!;
  if (result.kind === "ambiguous") {
    // Never guess between several resources: keep looking, flag it, let an operator decide.
    const message = `${result.count} provider resources carry this lease's handle; refusing to pick one`;
    return { ...looked, op: failedOnce(o, now, { kind: "ambiguous", message }, "ambiguous") };
  }
  const settle = looked.unsettled;
  if (settle && now < settle.until) {
    // Nothing yet, but the unknown attempt can still surface: a second create now could bill
    // two machines. Keep looking until it has settled.
    return { ...looked, op: { ...o, status: "ambiguous", failures: 0, nextAt: Math.min(settle.until, now + SETTLE_LOOK_MS) } };
  }
  const settled = { ...looked, unsettled: undefined };
  if ((o.ambiguousOutcomes ?? 0) >= MAX_CREATE_ATTEMPTS) {
    return beginRelease({ ...settled, op: undefined }, now, {
      reason: "provisioning_failed",
      action: "destroy",
      failure: { code: "provider_unavailable", message: o.lastError ?? "create kept failing" },
    });
  }
  return { ...settled, op: { ...o, status: "due", failures: 0, nextAt: now } };
}

export function recoverFailed(rec: LeaseRecord, now: number, failure: Failure): LeaseRecord {
  if (rec.op?.kind !== "create") return rec;
  const looked = settleStalled(rec);
  return { ...looked, op: failedOnce(looked.op!, now, failure, "ambiguous") };
}

/**
 * One "gone" answer may be a transient 404: a live lease gives its machine up only when a
 * second look a little later says the same. Any other answer forgets the first sighting.
 */
function goneUnconfirmed(rec: LeaseRecord, now: number, status: ResourceStatus): LeaseRecord | undefined {
  if (status.phase !== "gone" || rec.goneSeenAt !== undefined) return undefined;
  return { ...rec, goneSeenAt: now, pollAt: now + GONE_RECHECK_MS };
}

/** What the provider says about the machine, plus whether its SSH route answered. */
export function inspected(rec: LeaseRecord, now: number, status: ResourceStatus, routeReady: boolean): LeaseRecord {
  const since = now - (rec.provisionStartedAt ?? rec.createdAt);
  const firstSighting = goneUnconfirmed(rec, now, status);
  if (firstSighting && (rec.state === "provisioning" || rec.state === "ready" || rec.state === "active")) return firstSighting;
  // Adapter-private data (a resourceVersion, say) is refreshed by every look, so fenced writes never go stale.
  const fresh = { ...rec, goneSeenAt: undefined, resource: rec.resource && status.data ? { ...rec.resource, data: status.data } : rec.resource };
  if (rec.state === "provisioning") {
    if (status.phase === "running" && routeReady) {
      return { ...fresh, state: "ready", endpoint: status.endpoint, readyAt: now, pollAt: now + HEALTH_POLL_MS, probeFailures: 0, resumeUntil: undefined };
    }
    // `stopped` is not final here: a resumed machine reports it until its start takes hold.
    if (status.phase === "failed" || status.phase === "gone" || status.phase === "terminating") {
      return beginRelease(fresh, now, {
        reason: "provisioning_failed",
        // A failed create's rollback follows a free stop (Coder: keep the disk); else destroy.
        action: status.phase === "failed" && rec.stopIsFree ? "stop" : "destroy",
        failure: { code: `machine_${status.phase}`, message: status.detail },
        settle: status.phase === "gone",
      });
    }
    const probeFailures = (rec.probeFailures ?? 0) + (status.phase === "running" ? 1 : 0);
    return { ...fresh, pollAt: now + pollDelayMs(since), probeFailures };
  }
  if (rec.state === "ready" || rec.state === "active") {
    if (status.phase === "failed" || status.phase === "gone" || status.phase === "stopped" || status.phase === "terminating") {
      return beginRelease(fresh, now, {
        reason: "provider_lost",
        action: rec.releaseAction,
        failure: { code: `machine_${status.phase}`, message: status.detail },
      });
    }
    return { ...fresh, pollAt: now + HEALTH_POLL_MS };
  }
  return fresh;
}

export function inspectFailed(rec: LeaseRecord, now: number, failure: Failure): LeaseRecord {
  if (rec.pollAt === undefined) return rec;
  const since = now - (rec.provisionStartedAt ?? rec.createdAt);
  return { ...rec, pollAt: now + Math.max(failure.retryAfterMs ?? 0, pollDelayMs(since)) };
}

/** Parked: stopped and still owned. Retention counts from the first park and is never reset. */
function park(rec: LeaseRecord, now: number): LeaseRecord {
  const firstParkedAt = rec.firstParkedAt ?? now;
  return { ...rec, state: "parked", op: undefined, parkedAt: now, firstParkedAt, retainUntil: firstParkedAt + rec.parkRetentionMs, resumeUntil: undefined };
}

export function releaseStepped(rec: LeaseRecord, now: number, step: ReleaseStep): LeaseRecord {
  const o = rec.op;
  if (o?.kind !== "release") return rec;
  const elapsed = now - o.firstAt;
  const refreshed = step.data && rec.resource ? { ...rec, resource: { ...rec.resource, data: step.data } } : rec;
  if (!step.done) {
    return { ...refreshed, op: { ...o, status: "due", failures: 0, nextAt: now + pollDelayMs(elapsed), lastError: undefined } };
  }
  if (o.settleUntil !== undefined && now < o.settleUntil) {
    // Nothing found yet, but a late resource may still appear: look again, paced, until settled.
    const nextAt = Math.min(o.settleUntil, now + SETTLE_LOOK_MS);
    return { ...refreshed, op: { ...o, status: "due", failures: 0, nextAt, lastError: undefined } };
  }
  if (o.action === "stop") return park(refreshed, now);
  const state = rec.endReason === "provisioning_failed" ? "failed" : "released";
  return { ...refreshed, state, op: undefined, unsettled: undefined, endedAt: now, endpoint: undefined, pollAt: undefined };
}

export function releaseFailed(rec: LeaseRecord, now: number, failure: Failure): LeaseRecord {
  if (rec.op?.kind !== "release") return rec;
  // Never give up on a release: retry with capped backoff until the provider confirms.
  return { ...rec, op: failedOnce(rec.op, now, failure, "due", RELEASE_RETRY_MAX_MS) };
}

export function acknowledge(rec: LeaseRecord, now: number): LeaseRecord {
  if (rec.state === "active") return rec;
  if (rec.state !== "ready") throw new TransitionError("invalid_state", `lease is ${rec.state}; only a ready lease can be acknowledged`);
  return { ...rec, state: "active", acknowledgedAt: now, lastTouchAt: now };
}

export function touch(rec: LeaseRecord, now: number, idleTimeoutMs?: number): LeaseRecord {
  if (rec.state !== "ready" && rec.state !== "active") {
    throw new TransitionError("invalid_state", `lease is ${rec.state}; only a ready or active lease can be touched`);
  }
  return { ...rec, lastTouchAt: now, idleTimeoutMs: idleTimeoutMs ?? rec.idleTimeoutMs };
}

/** `timeoutMs`: the provider's resume deadline (capabilities.resumeTimeoutMs), if it has one. */
export function requestResume(rec: LeaseRecord, now: number, timeoutMs?: number): LeaseRecord {
  if (rec.state !== "parked") throw new TransitionError("invalid_state", `lease is ${rec.state}; only a parked lease can be resumed`);
  if (rec.createdAt + rec.request.ttlMs <= now) throw new TransitionError("lease_expired", "the lease's TTL has passed: its machine can no longer be resumed");
  return {
    ...rec,
    state: "provisioning",
    provisionStartedAt: now,
    parkedAt: undefined,
    retainUntil: undefined,
    endReason: undefined,
    failure: undefined,
    resumeUntil: timeoutMs === undefined ? undefined : now + timeoutMs,
    op: op("resume", now),
  };
}

export function resumed(rec: LeaseRecord, now: number): LeaseRecord {
  if (rec.op?.kind !== "resume") return rec;
  return { ...rec, op: undefined, pollAt: now };
}

export function resumeFailed(rec: LeaseRecord, now: number, failure: Failure): LeaseRecord {
  if (rec.op?.kind !== "resume") return rec;
  if (failure.kind === "ambiguous" || failure.kind === "rate_limited") {
    return { ...rec, op: failedOnce(rec.op, now, failure, "due") };
  }
  // The machine is still stopped and still ours: back to parked, with the reason recorded.
  return { ...park(rec, now), failure: { code: `provider_${failure.kind}`, message: failure.message } };
}
