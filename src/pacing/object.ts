// PacingObject: one Durable Object per provider account that hands out request permits at the
// provider's documented rates (gcra.ts). A thin shell: it keeps the buckets in memory and
// answers; every lease asks it before each provider request.

import { DurableObject } from "cloudflare:workers";
import { reserve, throttle, type PacingPriority, type PacingState, type RateLimits } from "./gcra";

/** What a caller gets: go after `waitMs`, or come back after `retryAfterMs` (nothing reserved). */
export type Permit = { granted: true; waitMs: number } | { granted: false; retryAfterMs: number };

/** Refused callers come back spread over this much more, so they do not return all at once. */
const RETRY_JITTER_MS = 500;

export class PacingObject extends DurableObject<Env> {
  // In memory on purpose: after an eviction the account starts with a full burst, and a 429
  // from the provider (throttled() below) slows it down again. Persisting every permit would
  // put a storage write on every provider request for little gain.
  private state: PacingState = {};

  now(): number {
    return Date.now();
  }

  permit(request: { limits: RateLimits; buckets: string[]; priority: PacingPriority }): Permit {
    const decision = reserve(this.state, request.limits, request.buckets, request.priority, this.now());
    if (!decision.granted) return { granted: false, retryAfterMs: decision.retryAfterMs + Math.floor(Math.random() * RETRY_JITTER_MS) };
    this.state = decision.state;
    return { granted: true, waitMs: decision.waitMs };
  }

  throttled(request: { limits: RateLimits; bucket: string; retryAfterMs: number }): void {
    this.state = throttle(this.state, request.limits, request.bucket, request.retryAfterMs, this.now());
  }
}
