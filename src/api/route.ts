// Route declarations: each route names its method, path, auth level, input schemas and
// response schemas once. app.ts mounts them; contract/openapi.ts documents the same objects.

import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import * as z from "zod/mini";
import type { Principal } from "./auth";
import { requireAuth } from "./auth";
import { ApiError } from "./errors";

/** Room for a lease request carrying up to 48 KiB of user data. */
export const MAX_BODY_BYTES = 64 * 1024;

export type AppEnv = { Bindings: Env; Variables: { principal: Principal } };
export type AppContext = Context<AppEnv>;

export interface RouteSpec<B = unknown, Q = unknown> {
  method: "get" | "post" | "put" | "delete";
  path: string;
  summary: string;
  auth: "none" | "user" | "admin";
  body?: z.ZodMiniType<B>;
  query?: z.ZodMiniType<Q>;
  /** Success responses by status. */
  responses: Partial<Record<ContentfulStatusCode, z.ZodMiniType>>;
  /** Error statuses this route can answer (all with the error envelope). */
  errors: ContentfulStatusCode[];
  handler: (c: AppContext, input: { body: B; query: Q }) => Promise<Response>;
}

/** Identity helper that keeps B and Q inferred per route. */
export function route<B, Q>(spec: RouteSpec<B, Q>): RouteSpec {
  return spec as unknown as RouteSpec;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `expected ${issue.expected}`;
    case "unrecognized_keys":
      return `unknown field${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}`;
    case "too_small":
      return `must be at least ${issue.minimum}${issue.origin === "string" ? " characters" : ""}`;
    case "too_big":
      return `must be at most ${issue.maximum}${issue.origin === "string" ? " characters" : ""}`;
    case "invalid_format":
      return "has an invalid format";
    case "invalid_value":
      return `must be one of: ${issue.values.map(String).join(", ")}`;
    case "invalid_union":
      return "matches none of the allowed shapes";
    default:
      return "is invalid";
  }
}

export function validationError(where: "body" | "query", error: z.core.$ZodError): ApiError {
  const issues = error.issues.map((issue) => ({
    path: issue.path.length ? issue.path.join(".") : where,
    message: describeIssue(issue),
  }));
  const first = issues[0]!;
  return new ApiError(400, "invalid_request", `${first.path} ${first.message}`, issues);
}

const tooLarge = () => new ApiError(413, "body_too_large", `request body exceeds ${MAX_BODY_BYTES} bytes`);

/**
 * Reads the body, enforcing the limit while reading: a chunked body (no content-length) is
 * cut off at the limit, never buffered whole first.
 */
async function readLimited(request: Request): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

async function readBody(c: AppContext): Promise<unknown> {
  const bytes = await readLimited(c.req.raw);
  if (bytes.byteLength === 0) return {};
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) throw new ApiError(415, "unsupported_media_type", "send the body as application/json");
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw new ApiError(400, "invalid_json", "request body is not valid JSON");
  }
}

export function mount(app: Hono<AppEnv>, routes: readonly RouteSpec[]): void {
  for (const spec of routes) {
    app.on(spec.method.toUpperCase(), spec.path, async (c) => {
      if (spec.auth !== "none") c.set("principal", await requireAuth(c.env, c.req.header("authorization"), spec.auth));
      let body: unknown = undefined;
      if (spec.body) {
        const parsed = spec.body.safeParse(await readBody(c));
        if (!parsed.success) throw validationError("body", parsed.error);
        body = parsed.data;
      }
      let query: unknown = undefined;
      if (spec.query) {
        const parsed = spec.query.safeParse(c.req.query());
        if (!parsed.success) throw validationError("query", parsed.error);
        query = parsed.data;
      }
      return spec.handler(c, { body, query });
    });
  }
}
