// API errors: one type carrying a stable code, an HTTP status and a message safe to show.
// Everything else that escapes a handler becomes a bare 500 internal_error (no internals).

import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorBody, ErrorCode } from "../contract/common";

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    readonly issues?: { path: string; message: string }[],
    /** Sent as Retry-After: when the same request is worth sending again. */
    readonly options: { retryAfterSeconds?: number } = {},
  ) {
    super(message);
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}) } };
  }
}

export const badRequest = (code: ErrorCode, message: string) => new ApiError(400, code, message);
export const notFound = (message = "no such lease") => new ApiError(404, "not_found", message);
