// Shared wire primitives of the public API: ids, durations, error envelope and codes.
// zod/mini keeps the Worker bundle small; these schemas are the single source of truth for
// the Worker's validation, the CLI's types and the OpenAPI document.

import * as z from "zod/mini";

/** Lease ids are short so every provider's naming rule can embed them (Coder: 32 chars total). */
export const LEASE_ID_PATTERN = /^[a-z0-9]{12,20}$/;
export const LeaseId = z.string().check(z.regex(LEASE_ID_PATTERN));

/** Durations: an integer with a unit, e.g. "90s", "30m", "2h", "7d". */
export const DURATION_PATTERN = /^([1-9][0-9]{0,6})(s|m|h|d)$/;
export const Duration = z.string().check(z.regex(DURATION_PATTERN));

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses a duration string into milliseconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** Formats milliseconds as the largest exact duration unit ("2h", "90s"). */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"] as const) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${Math.ceil(ms / 1000)}s`;
}

export const ProviderName = z.string().check(z.regex(/^[a-z][a-z0-9-]{1,31}$/));
export const ReleaseAction = z.enum(["destroy", "stop"]);
export type ReleaseAction = z.infer<typeof ReleaseAction>;

export const Timestamp = z.string().check(z.describe("ISO 8601 UTC time"));

/** Every error code the API can answer with. Stable: clients branch on them. */
export const ERROR_CODES = [
  "unauthorized",
  "forbidden",
  "not_found",
  "route_not_found",
  "method_not_allowed",
  "invalid_json",
  "invalid_request",
  "unsupported_media_type",
  "body_too_large",
  "unknown_provider",
  "provider_not_configured",
  "unsupported_release_action",
  "duration_out_of_range",
  "lease_conflict",
  "invalid_state",
  "invalid_for_provider",
  "tailscale_not_configured",
  "lease_expired",
  "quota_exceeded",
  /** Admission: the lease's reservation would cross the owner's monthly budget or spend rate (402). */
  "budget_exceeded",
  "provider_error",
  /** The provider (or the account's pacing point) is busy: nothing was created; retry after Retry-After (503). */
  "provider_busy",
  "internal_error",
] as const;
export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string(),
    /** Per-field problems of an invalid request. */
    issues: z.optional(z.array(z.object({ path: z.string(), message: z.string() }))),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
