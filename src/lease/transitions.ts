// Pure transitions of the lease machine: (record, event, now) → record. No I/O, no clock:
// the LeaseObject feeds them provider outcomes and persists what they return.

import type { EndReason } from "../contract/lease";
import type { ProviderErrorKind, ReleaseAction, ReleaseStep, ResourceRef, ResourceStatus, RecoverResult } from "../providers/types";
import { backoffMs, HEALTH_POLL_MS, pollDelayMs } from "./deadlines";
import { isTerminal, type LeaseRecord, type Operation } from "./record";

/** A create that keeps coming back ambiguous-then-absent is given up after this many tries. */
export const MAX_CREATE_ATTEMPTS = 6;
/** A provider step still in flight after this long belongs to an execution that died. */
export const OPERATION_STALL_MS = 2 * 60_000;
/**
 * After a create whose outcome is unknown (timed out, lost, cut short by a release), a
 * resource can still appear under the handle: a release keeps looking this long before it
 * believes "nothing there". Longer than a request timeout plus provider-side lag.
 */
export const CREATE_SETTLE_MS = 2 * 60_000;

export interface Failure {
  kind: ProviderErrorKind;
  message: string;
  retryAfterMs?: number;
}

export class TransitionError extends Error {
  constructor(readonly code: "invalid_state" | "unsupported_release_action", message: string) {
    super(message);
  }
}

function op(kind: Operation["kind"], now: number, action?: ReleaseAction): Operation {
  return { kind, action, status: "due", attempts: 0, firstAt: now, nextAt: now };
}

function retryAt(now: number, attempts: number, failure: Failure): number {
  return now + Math.max(failure.retryAfterMs ?? 0, backoffMs(attempts));
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
  if (rec.state === "requested") {
    // Not admitted yet, so no provider call was ever made: nothing can exist to remove.
    return { ...base, state: "released", endedAt: now, op: undefined };
  }
  // A parked machine is already stopped: ending the lease means destroying it.
  const action = rec.state === "parked" ? "destroy" : options.action;
  const createUnknown = rec.op?.kind === "create" && rec.op.status !== "due";
  const release = op("release", now, action);
  if (createUnknown || options.settle) release.settleUntil = now + CREATE_SETTLE_MS;
  return { ...base, state: "releasing", op: release };
}

export function expire(rec: LeaseRecord, now: number, reason: EndReason): LeaseRecord {
  const destroy = reason === "provisioning_failed" || reason === "retention_expired";
  const failure = reason === "provisioning_failed" ? { code: "provisioning_timeout", message: "the machine did not become ready in time" } : undefined;
  return beginRelease(rec, now, { reason, action: destroy ? "destroy" : rec.releaseAction, failure });
}

/**
 * Persisted before the provider request leaves. If the object dies mid-call, the alarm at
 * `nextAt` finds the operation still in flight and treats its outcome as unknown.
 */
export function startAttempt(rec: LeaseRecord, now: number): LeaseRecord {
  if (!rec.op) return rec;
  return { ...rec, op: { ...rec.op, status: "in_flight", attempts: rec.op.attempts + 1, nextAt: now + OPERATION_STALL_MS } };
}

/** The resource is known: record it whatever the lease decided meanwhile. */
export function resourceFound(rec: LeaseRecord, now: number, ref: ResourceRef): LeaseRecord {
  const next = { ...rec, resource: ref };
  if (rec.op?.kind !== "create") return next; // a release was decided during the call: it proceeds
  return { ...next, op: undefined, pollAt: rec.state === "provisioning" ? now : rec.pollAt };
}

export function createFailed(rec: LeaseRecord, now: number, failure: Failure): LeaseRecord {
  if (rec.op?.kind !== "create") return rec;
  if (failure.kind === "ambiguous" || failure.kind === "rate_limited") {
    // It may have taken effect: look it up by handle before trying again.
    const attempts = rec.op.attempts;
    return { ...rec, op: { ...rec.op, status: "ambiguous", nextAt: retryAt(now, attempts, failure), lastError: failure.message } };
  }
  return beginRelease({ ...rec, op: undefined }, now, {
    reason: "provisioning_failed",
    action: "destroy",
    failure: { code: `provider_${failure.kind}`, message: failure.message },
  });
}

export function recovered(rec: LeaseRecord, now: number, result: RecoverResult): LeaseRecord {
  if (rec.op?.kind !== "create") return rec;
  if (result.kind === "found") return resourceFound(rec, now, result.ref);
  if (result.kind === "ambiguous") {
    // Never guess between several resources: keep looking, flag it, let an operator decide.
    const message = `${result.count} provider resources carry this lease's handle; refusing to pick one`;
    return { ...rec, op: { ...rec.op, status: "ambiguous", nextAt: now + backoffMs(rec.op.attempts), lastError: message } };
  }
  if (rec.op.attempts >= MAX_CREATE_ATTEMPTS) {
    return beginRelease({ ...rec, op: undefined }, now, {
      reason: "provisioning_failed",
      action: "destroy",
      failure: { code: "provider_unavailable", message: rec.op.lastError ?? "create kept failing" },
    });
  }
  return { ...rec, op: { ...rec.op, status: "due", nextAt: now } };
}

export function recoverFailed(rec: LeaseRecord, now: number, failure: Failure): LeaseRecord {
  if (rec.op?.kind !== "create") return rec;
  return { ...rec, op: { ...rec.op, status: "ambiguous", nextAt: retryAt(now, rec.op.attempts, failure), lastError: failure.message } };
}

/** What the provider says about the machine, plus whether its SSH route answered. */
export function inspected(rec: LeaseRecord, now: number, status: ResourceStatus, routeReady: boolean): LeaseRecord {
  const since = now - (rec.provisionStartedAt ?? rec.createdAt);
  if (rec.state === "provisioning") {
    if (status.phase === "running" && routeReady) {
      return { ...rec, state: "ready", endpoint: status.endpoint, readyAt: now, pollAt: now + HEALTH_POLL_MS, probeFailures: 0 };
    }
    // `stopped` is not final here: a resumed machine reports it until its start takes hold.
    if (status.phase === "failed" || status.phase === "gone" || status.phase === "terminating") {
      return beginRelease(rec, now, {
        reason: "provisioning_failed",
        action: "destroy",
        failure: { code: `machine_${status.phase}`, message: status.detail },
        settle: status.phase === "gone",
      });
    }
    const probeFailures = (rec.probeFailures ?? 0) + (status.phase === "running" ? 1 : 0);
    return { ...rec, pollAt: now + pollDelayMs(since), probeFailures };
  }
  if (rec.state === "ready" || rec.state === "active") {
    if (status.phase === "failed" || status.phase === "gone" || status.phase === "stopped" || status.phase === "terminating") {
      return beginRelease(rec, now, {
        reason: "provider_lost",
        action: rec.releaseAction,
        failure: { code: `machine_${status.phase}`, message: status.detail },
      });
    }
    return { ...rec, pollAt: now + HEALTH_POLL_MS };
  }
  return rec;
}

export function inspectFailed(rec: LeaseRecord, now: number, failure: Failure): LeaseRecord {
  if (rec.pollAt === undefined) return rec;
  const since = now - (rec.provisionStartedAt ?? rec.createdAt);
  return { ...rec, pollAt: now + Math.max(failure.retryAfterMs ?? 0, pollDelayMs(since)) };
}

export function releaseStepped(rec: LeaseRecord, now: number, step: ReleaseStep): LeaseRecord {
  if (rec.op?.kind !== "release") return rec;
  const elapsed = now - rec.op.firstAt;
  if (!step.done) {
    return { ...rec, op: { ...rec.op, status: "due", nextAt: now + pollDelayMs(elapsed), lastError: undefined } };
  }
  if (rec.op.settleUntil !== undefined && now < rec.op.settleUntil) {
    // Nothing found yet, but a late resource may still appear: look again until settled.
    const nextAt = Math.min(rec.op.settleUntil, now + pollDelayMs(elapsed));
    return { ...rec, op: { ...rec.op, status: "due", nextAt, lastError: undefined } };
  }
  if (rec.op.action === "stop") {
    return { ...rec, state: "parked", op: undefined, parkedAt: now, retainUntil: now + rec.parkRetentionMs, endReason: undefined };
  }
  const state = rec.endReason === "provisioning_failed" ? "failed" : "released";
  return { ...rec, state, op: undefined, endedAt: now, endpoint: undefined, pollAt: undefined };
}

export function releaseFailed(rec: LeaseRecord, now: number, failure: Failure): LeaseRecord {
  if (rec.op?.kind !== "release") return rec;
  // Never give up on a release: retry with capped backoff until the provider confirms.
  return { ...rec, op: { ...rec.op, status: "due", nextAt: retryAt(now, rec.op.attempts, failure), lastError: failure.message } };
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

export function requestResume(rec: LeaseRecord, now: number): LeaseRecord {
  if (rec.state !== "parked") throw new TransitionError("invalid_state", `lease is ${rec.state}; only a parked lease can be resumed`);
  return { ...rec, state: "provisioning", provisionStartedAt: now, parkedAt: undefined, retainUntil: undefined, op: op("resume", now), failure: undefined };
}

export function resumed(rec: LeaseRecord, now: number): LeaseRecord {
  if (rec.op?.kind !== "resume") return rec;
  return { ...rec, op: undefined, pollAt: now };
}

export function resumeFailed(rec: LeaseRecord, now: number, failure: Failure): LeaseRecord {
  if (rec.op?.kind !== "resume") return rec;
  if (failure.kind === "ambiguous" || failure.kind === "rate_limited") {
    return { ...rec, op: { ...rec.op, status: "due", nextAt: retryAt(now, rec.op.attempts, failure), lastError: failure.message } };
  }
  // The machine is still stopped and still ours: back to parked, with the reason recorded.
  return {
    ...rec,
    state: "parked",
    op: undefined,
    parkedAt: now,
    retainUntil: now + rec.parkRetentionMs,
    failure: { code: `provider_${failure.kind}`, message: failure.message },
  };
}
