// FalClient: the fal Compute REST calls crabbox makes, over the shared HttpClient: `Key` auth,
// the idempotent create, the error body and its classification (../shared/contracts/fal/README.md).

import * as z from "zod/mini";
import type { Pacer, RateLimits } from "../../pacing/gcra";
import { classifyStatus, HttpClient, retryAfterMs, type HttpRequest } from "../http";
import { ProviderError, type ProviderErrorKind } from "../types";
import * as wire from "./wire";

export interface FalClientOptions {
  baseUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  pacer?: Pacer;
  sharedReads?: boolean;
}

/** ASSUMPTION: the docs name no rate limit; the account is paced at 5 requests/s, burst 10. */
export const FAL_RATE_LIMITS: RateLimits = { account: { intervalMs: 200, burst: 10 } };
const MAX_PROVIDER_MESSAGE_CHARS = 200;

/** Error `type`s that mean the key or the account cannot do this. */
const AUTH_TYPES = new Set(["authorization_error", "authentication_error", "permission_error", "forbidden"]);

export class FalClient {
  private readonly http: HttpClient;

  constructor(options: FalClientOptions) {
    this.http = new HttpClient({
      baseUrl: options.baseUrl,
      // The literal word "Key", a space, then the admin key (the docs).
      headers: { authorization: `Key ${options.apiKey}` },
      secrets: [options.apiKey],
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
      pacer: options.pacer,
      sharedReads: options.sharedReads,
    });
  }

  /**
   * The create, with `Idempotency-Key`: fal answers a replay within 10 minutes with the first
   * answer, so after an ambiguous outcome the byte-identical replay *is* the recovery.
   */
  create(body: wire.CreateRequest, idempotencyKey: string): Promise<wire.Instance> {
    return this.call({ method: "POST", path: "/compute/instances", json: body, headers: { "idempotency-key": idempotencyKey } }, wire.Instance, "POST /compute/instances");
  }

  async get(id: string): Promise<wire.Instance | undefined> {
    try {
      const instance = await this.call({ method: "GET", path: `/compute/instances/${encodeURIComponent(id)}` }, wire.Instance, "GET /compute/instances/{id}");
      // The answer must be about the instance asked for; anything else is not evidence of it.
      if (instance.id !== id) throw new ProviderError("ambiguous", "fal GET /compute/instances/{id} answered about another instance");
      return instance;
    } catch (err) {
      if (err instanceof ProviderError && err.kind === "not_found") return undefined;
      throw err;
    }
  }

  /** One page; a page that says there is more must name a cursor. */
  async list(cursor: string | undefined, limit: number): Promise<{ instances: wire.Instance[]; next?: string }> {
    const page = await this.call({ method: "GET", path: "/compute/instances", query: { limit, cursor } }, wire.InstancePage, "GET /compute/instances");
    if (page.has_more && !page.next_cursor) throw new ProviderError("ambiguous", "fal GET /compute/instances: has_more without a next_cursor");
    const instances = page.instances.map((item) => {
      const parsed = wire.Instance.safeParse(item);
      // No marker exists to tell ours from a stranger's: an unreadable item fails the listing closed.
      if (!parsed.success) throw new ProviderError("ambiguous", "fal GET /compute/instances: an instance does not match the documented shape");
      return parsed.data;
    });
    return { instances, next: page.has_more ? page.next_cursor! : undefined };
  }

  /** DELETE is irreversible; a 404 means it is already gone. */
  async delete(id: string): Promise<void> {
    try {
      await this.call({ method: "DELETE", path: `/compute/instances/${encodeURIComponent(id)}` }, z.unknown(), "DELETE /compute/instances/{id}");
    } catch (err) {
      if (!(err instanceof ProviderError) || err.kind !== "not_found") throw err;
    }
  }

  private async call<T>(req: HttpRequest, data: z.ZodMiniType<T>, route: string): Promise<T> {
    const res = await this.http.request(req);
    const where = `fal ${route}`;
    if (res.status >= 200 && res.status < 300) {
      const parsed = data.safeParse(res.body ?? {});
      if (!parsed.success) throw new ProviderError("ambiguous", `${where}: unexpected response shape`, { status: res.status });
      return parsed.data;
    }
    const body = wire.ErrorBody.safeParse(res.body);
    const type = body.success ? body.data.error.type : undefined;
    const kind = errorKind(res.status, type);
    const detail = body.success ? `${type}: ${body.data.error.message}` : `HTTP ${res.status}`;
    const message = this.http.redact(`${where}: HTTP ${res.status} ${detail}`).slice(0, MAX_PROVIDER_MESSAGE_CHARS);
    throw new ProviderError(kind, message, { status: res.status, code: type, retryAfterMs: kind === "rate_limited" ? retryAfterMs(res.headers) ?? 1_000 : undefined });
  }
}

/**
 * The docs: 5xx, 408 and 409 (and transport errors) are ambiguous (the create may have
 * happened: replay it); 429 and other 4xx are definite. A 404 with fal's body is gone.
 */
export function errorKind(status: number, type: string | undefined): ProviderErrorKind {
  if (status === 409) return "ambiguous";
  const generic = classifyStatus(status);
  if (generic === "rate_limited" || generic === "ambiguous") return generic;
  if (status === 401 || status === 403 || (type !== undefined && AUTH_TYPES.has(type))) return "auth";
  if (status === 404) return type !== undefined ? "not_found" : "ambiguous";
  if (/capacity|unavailable/i.test(type ?? "")) return "capacity";
  if (status === 400 || status === 422) return "invalid";
  return "definite";
}
