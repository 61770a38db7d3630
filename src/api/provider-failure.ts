// A provider call an API request made itself (a price, a template's parameters, the catalog,
// doctor) that failed, as the API says it: the provider or the account's pacing point being
// busy is 503 `provider_busy` with Retry-After (nothing was created: send the same request
// again), anything else 502 `provider_error`. Credentials never reach the message.

import { redact } from "../providers/http";
import { secretValues } from "../providers/registry";
import { ProviderError } from "../providers/types";
import { ApiError } from "./errors";

/** What a client is told to wait when the provider did not say. */
const DEFAULT_RETRY_AFTER_S = 2;

export function providerFailure(env: Env, err: unknown, provider?: string): never {
  if (!(err instanceof ProviderError)) throw err;
  const message = redact(provider ? `${provider}: ${err.message}` : err.message, secretValues(env));
  if (err.kind === "rate_limited") {
    const retryAfterSeconds = Math.max(1, Math.ceil((err.options.retryAfterMs ?? DEFAULT_RETRY_AFTER_S * 1000) / 1000));
    throw new ApiError(503, "provider_busy", `${message}; nothing was created: retry in ${retryAfterSeconds} s`, undefined, { retryAfterSeconds });
  }
  throw new ApiError(502, "provider_error", message);
}
