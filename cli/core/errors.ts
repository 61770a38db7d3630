// CLI errors: the user's fault or the world's (CliError: clean message, stable exit code) versus
// bugs (anything else: reported with context, exit 1). Exit codes are documented in EXIT_CODES.md.
import type { ErrorCode } from "../../src/contract/common";

export const EXIT = {
  ok: 0,
  bug: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  timeout: 5,
  quota: 6,
  connection: 7,
  lease: 8,
  server: 9,
  interrupted: 130,
  terminated: 143,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface CliErrorOptions {
  code: string;
  exitCode: ExitCode;
  issues?: { path: string; message: string }[];
  /** Extra JSON members of the `--json` error object (e.g. the lease that failed). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly issues?: { path: string; message: string }[];
  readonly details?: Record<string, unknown>;

  constructor(message: string, options: CliErrorOptions) {
    super(message, { cause: options.cause });
    this.name = "CliError";
    this.code = options.code;
    this.exitCode = options.exitCode;
    this.issues = options.issues;
    this.details = options.details;
  }
}

/** Every API error code mapped to an exit code; the `satisfies` makes a new code a type error here. */
export const API_ERROR_EXIT = {
  unauthorized: EXIT.auth,
  forbidden: EXIT.auth,
  not_found: EXIT.notFound,
  // The coordinator does not know the route: a CLI/coordinator version mismatch, not user input.
  route_not_found: EXIT.bug,
  method_not_allowed: EXIT.bug,
  invalid_json: EXIT.bug,
  unsupported_media_type: EXIT.bug,
  body_too_large: EXIT.bug,
  invalid_request: EXIT.usage,
  unknown_provider: EXIT.usage,
  provider_not_configured: EXIT.usage,
  unsupported_release_action: EXIT.usage,
  duration_out_of_range: EXIT.usage,
  invalid_for_provider: EXIT.usage,
  tailscale_not_configured: EXIT.usage,
  lease_conflict: EXIT.lease,
  invalid_state: EXIT.lease,
  lease_expired: EXIT.lease,
  quota_exceeded: EXIT.quota,
  budget_exceeded: EXIT.quota,
  provider_error: EXIT.server,
  // Retried (503) with its Retry-After; still busy after the retries: the coordinator's side.
  provider_busy: EXIT.server,
  internal_error: EXIT.server,
} as const satisfies Record<ErrorCode, ExitCode>;

/** Exit code for an HTTP status whose body is not a recognised API error (proxy pages, new codes). */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 408 || status === 504) return EXIT.timeout;
  if (status === 409) return EXIT.lease;
  if (status === 429) return EXIT.quota;
  if (status >= 500) return EXIT.server;
  if (status >= 400) return EXIT.usage;
  return EXIT.bug;
}

export function exitCodeForApiError(code: string, status: number): ExitCode {
  return (API_ERROR_EXIT as Record<string, ExitCode>)[code] ?? exitCodeForStatus(status);
}

export function usageError(message: string): CliError {
  return new CliError(message, { code: "usage", exitCode: EXIT.usage });
}

export function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}
