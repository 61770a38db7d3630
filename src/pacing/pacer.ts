// The Worker side of the pacing point: a Pacer bound to one provider account and one priority,
// which provider HTTP clients consult before every request (providers/http.ts).

import { ProviderError } from "../providers/types";
import type { Pacer, PacingPriority, RateLimits } from "./gcra";

export interface PacerOptions {
  env: Env;
  /** One pacing point per provider account; the provider name is the account here. */
  account: string;
  limits: RateLimits;
  priority: PacingPriority;
}

/** Pacing is on unless PROVIDER_PACING=off (the tests that do not test pacing turn it off). */
export function pacingEnabled(env: Env): boolean {
  return (env as unknown as Record<string, string | undefined>).PROVIDER_PACING !== "off";
}

export function createPacer(options: PacerOptions): Pacer | undefined {
  const { env, account, limits, priority } = options;
  if (!pacingEnabled(env) || Object.keys(limits).length === 0) return undefined;
  const stub = () => env.PACING.get(env.PACING.idFromName(account));
  return {
    async permit(buckets) {
      const decision = await stub().permit({ limits, buckets: [...buckets], priority });
      if (!decision.granted) {
        throw new ProviderError("rate_limited", `${account}: the account's request budget is spent; retrying in ${Math.ceil(decision.retryAfterMs / 1000)} s`, {
          retryAfterMs: decision.retryAfterMs,
        });
      }
      if (decision.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, decision.waitMs));
    },
    async throttled(bucket, retryAfterMs) {
      await stub().throttled({ limits, bucket, retryAfterMs });
    },
  };
}
