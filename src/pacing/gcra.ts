// Pure permit arithmetic of one provider account's pacing point (DESIGN.md "Account-wide rate
// limits"): a generic cell rate algorithm per bucket, where a request may be scheduled only as
// far ahead as its priority tolerates. Releases queue longest, creates less, polls not at all,
// so under load a billing machine's release gets the next permit before any new launch.

/** A provider's documented limit: one request per `intervalMs`, up to `burst` at once. */
export interface RateLimit {
  intervalMs: number;
  burst: number;
}

export type RateLimits = Readonly<Record<string, RateLimit>>;

/** Why the request is made: releases stop billing, creates start it, polls only look. */
export type PacingPriority = "release" | "create" | "poll";

/** How long a request of each priority may be scheduled ahead before it is refused instead. */
export const MAX_QUEUE_MS: Readonly<Record<PacingPriority, number>> = { release: 20_000, create: 6_000, poll: 0 };

/** What a provider client holds: the account's pacing point at one priority (pacer.ts). */
export interface Pacer {
  /** Waits for a permit on every named bucket, or throws ProviderError("rate_limited"). */
  permit(buckets: readonly string[]): Promise<void>;
  /** The provider answered 429 on `bucket`: slow the whole account. */
  throttled(bucket: string, retryAfterMs: number): Promise<void>;
}

/** Per bucket: the theoretical arrival time of the next request (GCRA's TAT). */
export type PacingState = Record<string, number>;

export type PermitDecision =
  | { granted: true; waitMs: number; state: PacingState }
  | { granted: false; retryAfterMs: number };

/**
 * Reserves one request against every named bucket, or refuses it. A refused request reserves
 * nothing; `retryAfterMs` is when its priority would next be within reach (an estimate: others
 * may take the slot first).
 */
export function reserve(state: PacingState, limits: RateLimits, buckets: readonly string[], priority: PacingPriority, now: number): PermitDecision {
  let startAt = now;
  for (const name of buckets) {
    const limit = limits[name];
    if (!limit) continue;
    const tolerance = (Math.max(1, limit.burst) - 1) * limit.intervalMs;
    startAt = Math.max(startAt, (state[name] ?? now) - tolerance);
  }
  const waitMs = startAt - now;
  if (waitMs > MAX_QUEUE_MS[priority]) return { granted: false, retryAfterMs: waitMs - MAX_QUEUE_MS[priority] };
  const next = { ...state };
  for (const name of buckets) {
    const limit = limits[name];
    if (limit) next[name] = Math.max(next[name] ?? now, startAt) + limit.intervalMs;
  }
  return { granted: true, waitMs, state: next };
}

/** The provider said 429: nothing more goes out on that bucket until `retryAfterMs` has passed. */
export function throttle(state: PacingState, limits: RateLimits, bucket: string, retryAfterMs: number, now: number): PacingState {
  const limit = limits[bucket];
  if (!limit) return state;
  const tolerance = (Math.max(1, limit.burst) - 1) * limit.intervalMs;
  // No Retry-After (Lambda's 429 is a bare "error code: 1015") still means at least one interval.
  const pause = Math.max(retryAfterMs, limit.intervalMs);
  // The next request's earliest start is now + pause: push the TAT past the burst allowance.
  return { ...state, [bucket]: Math.max(state[bucket] ?? now, now + pause + tolerance) };
}
