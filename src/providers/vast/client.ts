// VastClient: the Vast.ai REST calls crabbox makes, over the shared HttpClient. Owns auth, the
// v0/v1 path prefixes (as the official client's _build_url does), the many error shapes and
// their classification. Contract: ../shared/contracts/vast/ (yaml files, docs-excerpts.md,
// cli-facts.md).

import * as z from "zod/mini";
import type { Pacer, RateLimits } from "../../pacing/gcra";
import { HANDLE_PREFIX } from "../handle";
import { classifyStatus, HttpClient, type HttpRequest } from "../http";
import { ProviderError, type ProviderErrorKind } from "../types";
import * as wire from "./wire";

export interface VastClientOptions {
  baseUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  pacer?: Pacer;
  sharedReads?: boolean;
}

/**
 * Vast limits each endpoint per identity as a minimum interval (docs: rate-limits-and-errors):
 * offer search about 10 per minute (the issue's figure). ASSUMPTION: the yaml examples'
 * "endpoint threshold=N" values (1.0 to 4.5) are not explained; we pace every other endpoint
 * at one request per second with a burst of 2, and the account as a whole at 10/s.
 */
export const VAST_RATE_LIMITS: RateLimits = {
  account: { intervalMs: 100, burst: 10 },
  search: { intervalMs: 6_000, burst: 2 },
  create: { intervalMs: 1_000, burst: 2 },
  instance: { intervalMs: 500, burst: 4 },
  list: { intervalMs: 1_000, burst: 2 },
  manage: { intervalMs: 1_000, burst: 2 },
  keys: { intervalMs: 1_000, burst: 2 },
};
/** A 429 comes without Retry-After: wait at least this long before the same endpoint again. */
const RATE_LIMIT_FLOOR_MS = 2_000;
/** Offers move slowly enough that leases created together can share one search this long. */
const OFFER_SEARCH_SHARE_MS = 30_000;
/** The v1 listing's maximum page size (show_instances.yaml). */
export const LIST_PAGE_SIZE = 25;
const MAX_PROVIDER_MESSAGE_CHARS = 200;

const v0 = (path: string) => `/api/v0${path}`;

export class VastClient {
  private readonly http: HttpClient;

  constructor(options: VastClientOptions) {
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

  /** Offers matching `body`, parsed one by one (an odd offer is skipped, never fatal). */
  async searchOffers(body: wire.SearchRequest): Promise<wire.Offer[]> {
    const res = await this.call(
      { method: "POST", path: v0("/bundles/"), json: body, buckets: ["account", "search"], shareMs: OFFER_SEARCH_SHARE_MS },
      wire.SearchResponse,
      { route: "POST /bundles/" },
    );
    return res.offers.flatMap((item) => {
      const offer = wire.Offer.safeParse(item);
      return offer.success ? [offer.data] : [];
    });
  }

  /** Rents an offer. 404/410 `no_such_ask` (the offer is gone) is `capacity`; 5xx is ambiguous. */
  async createInstance(offerId: number, body: Record<string, unknown>): Promise<{ id: string }> {
    const res = await this.call({ method: "PUT", path: v0(`/asks/${offerId}/`), json: body, buckets: ["account", "create"] }, wire.CreateResponse, {
      route: "PUT /asks/{id}/",
    });
    if (!res.success) throw new ProviderError("ambiguous", "Vast PUT /asks/{id}/ answered success: false without an error status");
    // `instance_api_key` is dropped here: it controls the instance and is never kept.
    return { id: String(res.new_contract) };
  }

  /** One instance, or undefined when Vast says `{"instances": null}` (it does not exist). */
  async getInstance(id: string): Promise<wire.Instance | undefined> {
    const res = await this.call({ method: "GET", path: v0(`/instances/${encodeURIComponent(id)}/`), query: { owner: "me" }, buckets: ["account", "instance"] }, wire.ShowInstance, {
      route: "GET /instances/{id}/",
    });
    if (res.instances === null) return undefined;
    return this.parseInstance(res.instances);
  }

  /** One page of the v1 listing, optionally only instances carrying `label`. */
  async listInstances(options: { label?: string; afterToken?: string } = {}): Promise<{ instances: wire.Instance[]; next?: string }> {
    const query: Record<string, string> = {
      limit: String(LIST_PAGE_SIZE),
      order_by: JSON.stringify([{ col: "id", dir: "asc" }]),
      select_filters: JSON.stringify(options.label === undefined ? {} : { label: { in: [options.label] } }),
    };
    if (options.afterToken) query.after_token = options.afterToken;
    const page = await this.call({ method: "GET", path: "/api/v1/instances/", query, buckets: ["account", "list"] }, wire.InstancePage, { route: "GET /api/v1/instances/" });
    const instances: wire.Instance[] = [];
    for (const item of page.instances) {
      const parsed = wire.Instance.safeParse(item);
      if (parsed.success) instances.push(parsed.data);
      // Like Lambda's listing: a stranger's odd instance is skipped, one that may be ours fails closed.
      else if (JSON.stringify(item).includes(HANDLE_PREFIX)) throw new ProviderError("ambiguous", "Vast GET /api/v1/instances/: an instance that may be ours does not match the published shape");
    }
    return { instances, next: page.next_token ?? undefined };
  }

  async setState(id: string, state: "running" | "stopped"): Promise<void> {
    await this.call({ method: "PUT", path: v0(`/instances/${encodeURIComponent(id)}/`), json: { state }, buckets: ["account", "manage"] }, z.unknown(), {
      route: "PUT /instances/{id}/",
      gone: ["no_such_instance", "not_found"],
    });
  }

  /** DELETE /instances/{id}/; `not_found` means it is already gone. The client sends `{}`. */
  async destroy(id: string): Promise<void> {
    await this.call({ method: "DELETE", path: v0(`/instances/${encodeURIComponent(id)}/`), json: {}, buckets: ["account", "manage"] }, z.unknown(), {
      route: "DELETE /instances/{id}/",
      gone: ["not_found", "no_such_instance"],
    });
  }

  async attachKey(id: string, publicKey: string): Promise<void> {
    await this.call({ method: "POST", path: v0(`/instances/${encodeURIComponent(id)}/ssh/`), json: { ssh_key: publicKey.trim() }, buckets: ["account", "keys"] }, z.unknown(), {
      route: "POST /instances/{id}/ssh/",
    });
  }

  /** The instance's keys; `ssh_keys` arrives as a JSON-encoded string (show_instance_ssh_keys.yaml). */
  async listInstanceKeys(id: string): Promise<wire.InstanceKey[]> {
    const res = await this.call({ method: "GET", path: v0(`/instances/${encodeURIComponent(id)}/ssh/`), buckets: ["account", "keys"] }, wire.InstanceKeys, {
      route: "GET /instances/{id}/ssh/",
    });
    let items: unknown = res.ssh_keys;
    if (typeof items === "string") {
      try {
        items = JSON.parse(items);
      } catch {
        throw new ProviderError("ambiguous", "Vast GET /instances/{id}/ssh/: ssh_keys is not a JSON array");
      }
    }
    const parsed = z.array(wire.InstanceKey).safeParse(items);
    if (!parsed.success) throw new ProviderError("ambiguous", "Vast GET /instances/{id}/ssh/: unexpected key shape");
    return parsed.data;
  }

  async detachKey(id: string, keyId: number): Promise<void> {
    await this.call({ method: "DELETE", path: v0(`/instances/${encodeURIComponent(id)}/ssh/${keyId}/`), json: {}, buckets: ["account", "keys"] }, z.unknown(), {
      route: "DELETE /instances/{id}/ssh/{key}/",
      gone: ["no_such_ssh_key"],
    });
  }

  currentUser(): Promise<z.infer<typeof wire.User>> {
    return this.call({ method: "GET", path: v0("/users/current/"), buckets: ["account"] }, wire.User, { route: "GET /users/current/" });
  }

  private parseInstance(item: unknown): wire.Instance {
    const parsed = wire.Instance.safeParse(item);
    if (!parsed.success) throw new ProviderError("ambiguous", "Vast GET /instances/{id}/: unexpected instance shape");
    return parsed.data;
  }

  private async call<T>(req: HttpRequest, data: z.ZodMiniType<T>, options: { route: string; gone?: readonly string[] }): Promise<T> {
    const res = await this.http.request(req);
    const where = `Vast ${options.route}`;
    if (res.status >= 200 && res.status < 300) {
      const parsed = data.safeParse(res.body);
      if (!parsed.success) throw new ProviderError("ambiguous", `${where}: unexpected response shape`, { status: res.status });
      return parsed.data;
    }
    const body = wire.ErrorBody.safeParse(res.body);
    const fields = body.success ? body.data : {};
    // Plain-text bodies (a 429's "API requests too frequent") are shown, bounded and redacted.
    const text = fields.msg ?? fields.message ?? fields.detail ?? (res.body === undefined ? res.text : "");
    const kind = errorKind(res.status, `${fields.error ?? ""} ${text}`, options.gone);
    const detail = [fields.error, text].filter(Boolean).join(": ");
    const message = this.redact(`${where}: HTTP ${res.status}${detail ? ` ${detail}` : ""}`).slice(0, MAX_PROVIDER_MESSAGE_CHARS);
    const retryAfterMs = kind === "rate_limited" ? RATE_LIMIT_FLOOR_MS : undefined;
    throw new ProviderError(kind, message, { status: res.status, code: fields.error, retryAfterMs });
  }
}

/**
 * 429, 408 and 5xx decide by status. An offer that is gone (`no_such_ask`, 404 or 410) is a
 * capacity problem: the next offer may do. A route's own "does not exist" codes are
 * `not_found`; any other 404 proves nothing and is ambiguous.
 */
export function errorKind(status: number, said: string, gone: readonly string[] = []): ProviderErrorKind {
  const generic = classifyStatus(status);
  if (generic === "rate_limited" || generic === "ambiguous") return generic;
  if ((status === 404 || status === 410) && /no_such_ask/.test(said)) return "capacity";
  if (gone.some((code) => said.includes(code))) return "not_found";
  if (status === 401 || status === 403) return "auth";
  if (status === 404 || status === 410) return "ambiguous";
  if (status === 400) return /insufficient|balance|credit/i.test(said) ? "quota" : "invalid";
  return "definite";
}
