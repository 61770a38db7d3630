// LambdaClient: the Lambda Cloud REST calls crabbox makes, over the shared HttpClient. Owns auth,
// the `{data}` / `{error}` envelopes and the mapping of Lambda error codes to ProviderError kinds.
// Contract: ../shared/contracts/lambda/openapi-1.10.0.json and openapi-1.8.3.json.

import * as z from "zod/mini";
import type { Pacer, RateLimits } from "../../pacing/gcra";
import { HttpClient, classifyStatus, retryAfterMs, type HttpRequest } from "../http";
import { ProviderError, type ProviderErrorKind } from "../types";
import { HANDLE_PREFIX } from "./marker";
import * as wire from "./wire";

export interface LambdaClientOptions {
  baseUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  pacer?: Pacer;
  sharedReads?: boolean;
}

/** Lambda allows about one request per second, and one launch per 12 s (contracts/README.md). */
export const RATE_LIMIT_BACKOFF_MS = 1_000;
export const LAUNCH_INTERVAL_MS = 12_000;
/**
 * The account's pacing buckets. ASSUMPTION: "about 1 request/s" tolerates a short burst (5);
 * launches get no burst at all, which satisfies both readings of the launch limit ("one per
 * 12 s" and "five per minute").
 */
export const LAMBDA_RATE_LIMITS: RateLimits = {
  account: { intervalMs: RATE_LIMIT_BACKOFF_MS, burst: 5 },
  launch: { intervalMs: LAUNCH_INTERVAL_MS, burst: 1 },
};
/** How old a whole-account instance listing one lease may borrow from another. */
const INSTANCE_LISTING_SHARE_MS = 1_000;
/** The types listing carries capacity too: shared only briefly unless the caller wants prices. */
const INSTANCE_TYPES_SHARE_MS = 1_000;
/** Provider messages are echoed into errors only this far, after redaction. */
const MAX_PROVIDER_MESSAGE_CHARS = 200;

/** Error codes from the spec's ApiError* schemas; anything else falls back to the HTTP status. */
const KIND_BY_CODE: Record<string, ProviderErrorKind> = {
  "global/invalid-api-key": "auth",
  "global/account-inactive": "auth",
  "global/invalid-address": "auth",
  "global/forbidden": "auth",
  "instance-operations/launch/insufficient-capacity": "capacity",
  "global/quota-exceeded": "quota",
  "global/invalid-parameters": "invalid",
  "instance-operations/launch/file-system-in-wrong-region": "invalid",
  "global/duplicate": "definite",
  "global/conflict": "definite",
};

const KIND_BY_STATUS: Record<number, ProviderErrorKind> = { 400: "invalid", 401: "auth", 403: "auth" };

/**
 * "Does not exist" is the specific code a route's contract gives for a missing object, never
 * any 404: a 404 without it (no body, or the route-level `global/not-found` of a proxy or a
 * routing hiccup) proves nothing and is retried. Instances answer ApiErrorInstanceNotFound;
 * DELETE /ssh-keys/{id} answers ApiErrorNotFound (1.10.0).
 */
const INSTANCE_GONE = ["global/object-does-not-exist"] as const;
const SSH_KEY_GONE = ["global/not-found", "global/object-does-not-exist"] as const;

export class LambdaClient {
  private readonly http: HttpClient;

  constructor(options: LambdaClientOptions) {
    this.http = new HttpClient({
      baseUrl: options.baseUrl,
      headers: { authorization: `Bearer ${options.apiKey}` },
      secrets: [options.apiKey],
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
      pacer: options.pacer,
      sharedReads: options.sharedReads,
    });
  }

  redact(text: string): string {
    return this.http.redact(text);
  }

  /**
   * Every instance of the account. Items are parsed one by one so that one odd instance of
   * someone else's cannot blind recovery, release and the sweep for the whole account; an
   * unparseable item that may carry a crabbox key name or tag still fails the listing (closed).
   */
  async listInstances(): Promise<wire.Instance[]> {
    // Shared for a second across the isolate's leases: recovery and release tolerate that much
    // (a release that sees a stale "running" just asks again; a lease's own id is also read directly).
    const items = await this.call({ method: "GET", path: "/instances", shareMs: INSTANCE_LISTING_SHARE_MS }, z.array(z.unknown()));
    return parseEach(items, wire.Instance, "GET /instances: an instance that may be ours does not match the published schema");
  }

  getInstance(id: string): Promise<wire.Instance> {
    return this.call({ method: "GET", path: `/instances/${encodeURIComponent(id)}` }, wire.Instance, { route: "/instances/{id}", gone: INSTANCE_GONE });
  }

  /** Answers the launched instance ids. Any failure but a definite error code is ambiguous. */
  launch(body: wire.LaunchRequest): Promise<string[]> {
    const json = this.checkRequest("launch", wire.LaunchRequest, body);
    return this.call({ method: "POST", path: "/instance-operations/launch", json, buckets: ["account", "launch"] }, wire.LaunchResponse).then(
      (data) => data.instance_ids,
    );
  }

  terminate(instanceIds: string[]): Promise<wire.Instance[]> {
    const json = this.checkRequest("terminate", wire.TerminateRequest, { instance_ids: instanceIds });
    return this.call({ method: "POST", path: "/instance-operations/terminate", json }, wire.TerminateResponse, { gone: INSTANCE_GONE }).then(
      (data) => data.terminated_instances,
    );
  }

  /** Every key object of the account, parsed item by item like the instance listing. */
  async listSshKeys(): Promise<wire.SshKey[]> {
    const items = await this.call({ method: "GET", path: "/ssh-keys" }, z.array(z.unknown()));
    return parseEach(items, wire.SshKey, "GET /ssh-keys: a key that may be ours does not match the published schema");
  }

  addSshKey(body: wire.AddSshKeyRequest): Promise<wire.SshKey> {
    const json = this.checkRequest("add SSH key", wire.AddSshKeyRequest, body);
    return this.call({ method: "POST", path: "/ssh-keys", json }, wire.SshKey);
  }

  async deleteSshKey(id: string): Promise<void> {
    await this.call({ method: "DELETE", path: `/ssh-keys/${encodeURIComponent(id)}` }, wire.EmptyResponse, { route: "/ssh-keys/{id}", gone: SSH_KEY_GONE });
  }

  /** `shareMs`: how old a shared answer may be (prices change rarely, capacity often). */
  listInstanceTypes(shareMs = INSTANCE_TYPES_SHARE_MS, staleIfErrorMs?: number): Promise<wire.InstanceTypes> {
    return this.call({ method: "GET", path: "/instance-types", shareMs, staleIfErrorMs }, wire.InstanceTypes);
  }

  listImages(): Promise<wire.Image[]> {
    return this.call({ method: "GET", path: "/images" }, z.array(wire.Image));
  }

  getFirewallRuleset(id: string): Promise<wire.FirewallRuleset> {
    return this.call({ method: "GET", path: `/firewall-rulesets/${encodeURIComponent(id)}` }, wire.FirewallRuleset, {
      route: "/firewall-rulesets/{id}",
      gone: INSTANCE_GONE,
    });
  }

  /** A request that breaks the spec is our bug or bad config: refuse it before it leaves. */
  private checkRequest<T>(what: string, schema: z.ZodMiniType<T>, body: T): T {
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new ProviderError("invalid", `Lambda ${what} request rejected locally: invalid ${issuePaths(parsed.error)}`);
    }
    return parsed.data;
  }

  private async call<T>(req: HttpRequest, data: z.ZodMiniType<T>, options: { route?: string; gone?: readonly string[] } = {}): Promise<T> {
    const route = options.route ?? req.path;
    const res = await this.http.request(req);
    // Messages name the route template, never the id: ids are noise in an error's text.
    const where = `Lambda ${req.method} ${route}`;
    if (res.status >= 200 && res.status < 300) {
      const parsed = wire.envelope(data).safeParse(res.body);
      // The provider answered success but not in its documented shape: it may have acted.
      if (!parsed.success) throw new ProviderError("ambiguous", `${where}: unexpected response shape at ${issuePaths(parsed.error)}`, { status: res.status });
      return parsed.data.data as T;
    }
    const envelope = wire.ErrorEnvelope.safeParse(res.body);
    const code = envelope.success ? envelope.data.error.code : undefined;
    const kind = errorKind(res.status, code, options.gone);
    const detail = envelope.success ? `${code}: ${envelope.data.error.message}` : `HTTP ${res.status}`;
    const message = this.redact(`${where}: HTTP ${res.status} ${detail}`).slice(0, MAX_PROVIDER_MESSAGE_CHARS);
    const retryAfter = kind === "rate_limited" ? rateLimitDelayMs(req, res.headers) : undefined;
    throw new ProviderError(kind, message, { status: res.status, code, retryAfterMs: retryAfter });
  }
}

/**
 * 429, 408 and 5xx decide by status; then the route's own "does not exist" codes; then Lambda's
 * error code, then the status. A 404 that is none of these is ambiguous: it proves nothing.
 */
export function errorKind(status: number, code: string | undefined, gone: readonly string[] = INSTANCE_GONE): ProviderErrorKind {
  const generic = classifyStatus(status);
  if (generic === "rate_limited" || generic === "ambiguous") return generic;
  if (code !== undefined && gone.includes(code)) return "not_found";
  const byCode = code !== undefined ? KIND_BY_CODE[code] : undefined;
  if (byCode) return byCode;
  if (status === 404) return "ambiguous";
  return KIND_BY_STATUS[status] ?? "definite";
}

/**
 * Parses a listing item by item, so one odd object of someone else's cannot blind recovery,
 * release and the sweep for the whole account; an unparseable item that may carry a crabbox
 * handle still fails the listing (closed).
 */
function parseEach<T>(items: unknown[], schema: z.ZodMiniType<T>, whenOurs: string): T[] {
  const parsed: T[] = [];
  for (const item of items) {
    const one = schema.safeParse(item);
    if (one.success) parsed.push(one.data);
    else if (JSON.stringify(item).includes(HANDLE_PREFIX)) throw new ProviderError("ambiguous", whenOurs);
  }
  return parsed;
}

function rateLimitDelayMs(req: HttpRequest, headers: Headers): number {
  const floor = req.path === "/instance-operations/launch" ? LAUNCH_INTERVAL_MS : RATE_LIMIT_BACKOFF_MS;
  return Math.max(floor, retryAfterMs(headers) ?? 0);
}

/** Issue locations only: zod/mini messages carry no values, and values may hold secrets. */
function issuePaths(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => issue.path.join(".") || "(root)")
    .join(", ");
}
