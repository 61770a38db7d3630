// Pure time logic of a lease: which deadlines apply, which one expired, the one alarm time,
// and the next step the object should take. O(1) in the lease's own state, never a scan.

import type { EndReason } from "../contract/lease";
import { isTerminal, type LeaseRecord } from "./record";

/** A machine that is not up after this long is given up on (and destroyed). */
export const PROVISION_TIMEOUT_MS = 30 * 60_000;
/** How often a ready/active lease asks the provider whether its machine still exists. */
export const HEALTH_POLL_MS = 60_000;
/** Retry admission this long after a `requested` lease was last tried. */
export const ADMISSION_RETRY_MS = 10_000;
const QUICK_POLL_MS = 500;
const QUICK_POLL_WINDOW_MS = 5_000;
const FAST_POLL_MS = 2_000;
const SLOW_POLL_MS = 10_000;
const FAST_POLL_WINDOW_MS = 2 * 60_000;
const RETRY_BASE_MS = 2_000;
const RETRY_MAX_MS = 5 * 60_000;
/**
 * A release's retries are capped far lower: the machine bills while we wait, and the
 * account's pacing point (src/pacing/) already keeps us under the provider's rate limit.
 */
export const RELEASE_RETRY_MAX_MS = 30_000;
/** How often a lease looks under its handle while an ambiguous create settles. */
export const SETTLE_LOOK_MS = 10_000;
/** A live machine reported gone is looked at once more this much later before it is given up. */
export const GONE_RECHECK_MS = 5_000;

/**
 * Provider polling (boot watch, teardown confirmation): a few quick looks first, since fast
 * providers finish in well under a second, then every 2 s while young, every 10 s after.
 */
export function pollDelayMs(sinceMs: number): number {
  if (sinceMs < QUICK_POLL_WINDOW_MS) return QUICK_POLL_MS;
  return sinceMs < FAST_POLL_WINDOW_MS ? FAST_POLL_MS : SLOW_POLL_MS;
}

/** Capped exponential backoff for failed provider calls; `failures` counts consecutive ones from 1. */
export function backoffMs(failures: number, capMs = RETRY_MAX_MS): number {
  return Math.min(RETRY_BASE_MS * 2 ** Math.max(0, failures - 1), capMs);
}

export interface Deadlines {
  /** While queued: the end of the wait for capacity. */
  capacity?: number;
  resume?: number;
  ack?: number;
  idle?: number;
  ttl?: number;
  retention?: number;
  provision?: number;
}

/** The deadlines that apply in the lease's current state. */
export function deadlines(rec: LeaseRecord): Deadlines {
  const ttl = rec.createdAt + rec.request.ttlMs;
  switch (rec.state) {
    case "queued":
      return { ttl, capacity: rec.queue?.until };
    case "provisioning":
      return { ttl, provision: (rec.provisionStartedAt ?? rec.createdAt) + PROVISION_TIMEOUT_MS, resume: rec.resumeUntil };
    case "ready":
      return { ttl, ack: (rec.readyAt ?? rec.createdAt) + rec.request.ackDeadlineMs };
    case "active":
      return { ttl, idle: rec.lastTouchAt + rec.idleTimeoutMs };
    case "parked":
      // The TTL is a hard end whatever the release action (DESIGN.md "Stop"). Where a stopped
      // machine costs nothing (stopIsFree) the parked lease is held by its retention alone; it
      // still cannot be resumed past its TTL (transitions.requestResume).
      return rec.stopIsFree ? { retention: rec.retainUntil } : { ttl, retention: rec.retainUntil };
    default:
      return {};
  }
}

/** The reason the lease must end now, if one of its deadlines has passed. */
export function expiredDeadline(rec: LeaseRecord, now: number): EndReason | undefined {
  const d = deadlines(rec);
  if (d.ack !== undefined && d.ack <= now) return "ack_timeout";
  if (d.idle !== undefined && d.idle <= now) return "idle_timeout";
  if (d.ttl !== undefined && d.ttl <= now) return "ttl_expired";
  if (d.retention !== undefined && d.retention <= now) return "retention_expired";
  if (d.resume !== undefined && d.resume <= now) return "resume_failed";
  if (d.provision !== undefined && d.provision <= now) return "provisioning_failed";
  if (d.capacity !== undefined && d.capacity <= now) return "capacity_timeout";
  return undefined;
}

/** The single alarm time: the earliest of every deadline, pending operation and poll. */
export function nextAlarmAt(rec: LeaseRecord): number | undefined {
  if (isTerminal(rec.state)) return undefined;
  const candidates = [rec.op?.nextAt, rec.pollAt, ...Object.values(deadlines(rec))];
  const times = candidates.filter((t): t is number => t !== undefined);
  return times.length ? Math.min(...times) : undefined;
}

/**
 * The deadline the D1 index records for the sweep's overdue scan: every deadline and pending
 * operation, but not routine polls, so a healthy lease's index row is rewritten about once per
 * deadline period rather than at every health poll. A lease whose polls stop is still caught
 * by its next real deadline (provisioning timeout, idle, TTL, ack, retention).
 */
export function indexDeadlineAt(rec: LeaseRecord): number | undefined {
  if (isTerminal(rec.state)) return undefined;
  const times = [rec.op?.nextAt, ...Object.values(deadlines(rec))].filter((t): t is number => t !== undefined);
  return times.length ? Math.min(...times) : rec.pollAt;
}

export type Step =
  | { kind: "admit" }
  | { kind: "expire"; reason: EndReason }
  | { kind: "create" }
  | { kind: "recover" }
  | { kind: "release" }
  | { kind: "resume" }
  | { kind: "inspect" }
  /** Queued: tell the provider's line (src/capacity/) the lease is waiting. */
  | { kind: "enqueue" };

/**
 * What the lease should do now. An operation found `in_flight` here was started by an
 * execution that no longer exists (the object restarted mid-call): its outcome is unknown.
 */
export function planStep(rec: LeaseRecord, now: number): Step | undefined {
  if (isTerminal(rec.state)) return undefined;
  if (rec.state === "requested") return (rec.pollAt ?? 0) <= now ? { kind: "admit" } : undefined;
  const reason = expiredDeadline(rec, now);
  if (reason) return { kind: "expire", reason };
  if (rec.state === "queued") return !rec.queue?.registered && (rec.pollAt ?? 0) <= now ? { kind: "enqueue" } : undefined;
  const op = rec.op;
  if (op && op.nextAt <= now) {
    if (op.kind !== "create") return { kind: op.kind };
    if (op.status === "due") return { kind: "create" };
    // Outcome unknown. Where the provider's create is idempotent by handle (fal's
    // Idempotency-Key), replaying it inside the settle window is the recovery.
    const replayable = rec.createPolicy?.idempotent && (!rec.unsettled || now < rec.unsettled.until);
    return replayable ? { kind: "create" } : { kind: "recover" };
  }
  if (rec.pollAt !== undefined && rec.pollAt <= now) return { kind: "inspect" };
  return undefined;
}
