// The one HTTP wrapper every provider client uses: base-URL policy (https only, loopback http
// allowed), timeouts, no cross-origin redirects, secret redaction and outcome classification.
// It never throws for an HTTP status: callers classify the status with their provider's codes.

import type { Pacer } from "../pacing/gcra";
import { beginRead, endRead, peerAnswer, recentAnswer, rememberAnswer, sharedKey } from "./shared-reads";
import { ProviderError } from "./types";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface HttpRequest {
  method: HttpMethod;
  /** Path relative to the base URL, e.g. "/instances". */
  path: string;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  /** Serialised as JSON unless `contentType` says otherwise. */
  json?: unknown;
  contentType?: string;
  timeoutMs?: number;
  /**
   * Rate-limit buckets this request counts against (the provider factory's `rateLimits`);
   * `account` when absent. The last one named is the one a 429 is blamed on.
   */
  buckets?: readonly string[];
  /**
   * A read (a GET, or a search sent as POST): a 2xx answer to the same URL, body and credential
   * at most this old may be shared instead of asking again (shared-reads.ts). Use only where a
   * slightly older view is safe.
   */
  shareMs?: number;
  /**
   * With `shareMs`: when this read cannot be made now (the pacing point refuses a permit, or the
   * provider answers 429 or 5xx), a remembered answer up to this old is used instead.
   */
  staleIfErrorMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  body: unknown;
}

export interface HttpClientOptions {
  baseUrl: string;
  /** Headers sent with every request (auth). Their values are redacted from every message. */
  headers: Record<string, string>;
  /** Further secret values to redact (API keys, tokens). */
  secrets?: string[];
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** The account's pacing point: asked before every request, told about every 429. */
  pacer?: Pacer;
  /** Honour `shareMs` (account-wide coordination is on): see shared-reads.ts. */
  sharedReads?: boolean;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
/** How long a shared read waits for the same read already on its way before asking itself. */
const PEER_WAIT_MS = 5_000;
const MAX_SAME_ORIGIN_REDIRECTS = 3;
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/** Throws unless `url` is https, or http to a loopback address (the local stack). */
export function checkBaseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ProviderError("invalid", `provider base URL is not a URL`);
  }
  const loopback = LOOPBACK_HOST.test(parsed.hostname);
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && loopback)) {
    throw new ProviderError("invalid", `provider base URL must be https (got ${parsed.protocol}//${parsed.host})`);
  }
  if (parsed.username || parsed.password) {
    throw new ProviderError("invalid", "provider base URL must not carry credentials");
  }
  return parsed;
}

/** One function for every client, so shared reads can tell the real network from a test's. */
const globalFetch: typeof fetch = (input, init) => fetch(input, init);

const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;
const SENSITIVE_FIELD = /("(?:user_data|jupyter_token|token|api_key|instance_api_key|password|private_key|onstart)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;
const AUTH_HEADER_VALUE = /\b(Bearer|Key|Basic)\s+[A-Za-z0-9._~+/=:-]{6,}/g;

/** Removes secrets from text bound for a log line, an error message or a response. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return out
    .replace(PRIVATE_KEY, "[redacted private key]")
    .replace(SENSITIVE_FIELD, '$1"[redacted]"')
    .replace(AUTH_HEADER_VALUE, "$1 [redacted]");
}

export class HttpClient {
  readonly origin: string;
  private readonly base: URL;
  private readonly secrets: string[];
  private readonly fetchFn: typeof fetch;
  /** What identifies the account for shared reads; hashed there, never stored. */
  private readonly credential: string;

  constructor(private readonly options: HttpClientOptions) {
    this.base = checkBaseUrl(options.baseUrl);
    this.origin = this.base.origin;
    const headerSecrets = Object.values(options.headers).flatMap((v) => [v, v.replace(/^\S+\s+/, "")]);
    this.secrets = [...(options.secrets ?? []), ...headerSecrets].filter((s) => s.length >= 4);
    this.fetchFn = options.fetch ?? globalFetch;
    this.credential = Object.values(options.headers).join("\n");
  }

  redact(text: string): string {
    return redact(text, this.secrets);
  }

  url(path: string, query?: HttpRequest["query"]): URL {
    const url = new URL(this.base.pathname.replace(/\/$/, "") + path, this.base);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  /**
   * Sends one request. A network error or timeout throws ProviderError("ambiguous"): the
   * provider may or may not have acted. Any HTTP status is returned for the caller to classify.
   */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const shareKey =
      this.options.sharedReads && req.shareMs
        ? sharedKey(this.fetchFn, `${req.method} ${this.url(req.path, req.query)} ${JSON.stringify(req.json ?? null)}`, this.credential)
        : undefined;
    if (!shareKey) return this.paced(req);
    const recent = await peerAnswer(shareKey, req.shareMs!, PEER_WAIT_MS);
    if (recent) return { status: recent.status, headers: new Headers(recent.headers), text: recent.text, body: parseJson(recent.text) };
    const stale = () => {
      const old = req.staleIfErrorMs ? recentAnswer(shareKey, req.staleIfErrorMs) : undefined;
      return old && { status: old.status, headers: new Headers(old.headers), text: old.text, body: parseJson(old.text) };
    };
    beginRead(shareKey);
    try {
      const res = await this.paced(req);
      if (res.status >= 200 && res.status < 300) rememberAnswer(shareKey, { status: res.status, text: res.text, headers: [...res.headers] });
      else if (res.status === 429 || res.status >= 500) return stale() ?? res;
      return res;
    } catch (err) {
      if (err instanceof ProviderError && err.kind === "rate_limited") return stale() ?? Promise.reject(err);
      throw err;
    } finally {
      endRead(shareKey);
    }
  }

  private async paced(req: HttpRequest): Promise<HttpResponse> {
    const buckets = req.buckets ?? ["account"];
    // A refused permit throws rate_limited before anything is sent: definitely not acted on.
    await this.options.pacer?.permit(buckets);
    const res = await this.send(req);
    if (res.status === 429) {
      // One lease's 429 slows the whole account; the caller still classifies the answer.
      await this.options.pacer?.throttled(buckets[buckets.length - 1]!, retryAfterMs(res.headers) ?? 0).catch(() => undefined);
    }
    return res;
  }

  private async send(req: HttpRequest): Promise<HttpResponse> {
    let url = this.url(req.path, req.query);
    const headers: Record<string, string> = { accept: "application/json", ...this.options.headers, ...req.headers };
    let body: string | undefined;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers["content-type"] = req.contentType ?? "application/json";
    }
    const timeoutMs = req.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    for (let hop = 0; ; hop++) {
      let response: Response;
      try {
        response = await this.fetchFn(url.toString(), {
          method: req.method,
          headers,
          body,
          redirect: "manual",
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        // A certificate the runtime does not trust is worth naming: it never heals by retrying.
        const tls = err instanceof Error && /TLS|certificate|SSL|handshake/i.test(err.message);
        const what = err instanceof Error && err.name === "TimeoutError" ? `timed out after ${timeoutMs} ms` : tls ? "TLS handshake failed (certificate not trusted?)" : "network error";
        throw new ProviderError("ambiguous", this.redact(`${req.method} ${url.pathname}: ${what}`));
      }
      if (response.status >= 300 && response.status < 400 && response.headers.has("location")) {
        const next = new URL(response.headers.get("location")!, url);
        if (next.origin !== this.origin) {
          throw new ProviderError("definite", `${req.method} ${url.pathname}: refused redirect to another origin`);
        }
        if (hop >= MAX_SAME_ORIGIN_REDIRECTS) {
          throw new ProviderError("definite", `${req.method} ${url.pathname}: too many redirects`);
        }
        url = next;
        continue;
      }
      const text = await response.text().catch(() => "");
      return { status: response.status, headers: response.headers, text, body: parseJson(text) };
    }
  }
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Generic outcome of an HTTP status, before a provider's own error codes refine it. */
export function classifyStatus(status: number): "ok" | "ambiguous" | "rate_limited" | "definite" {
  if (status >= 200 && status < 300) return "ok";
  if (status === 429) return "rate_limited";
  if (status === 408 || status >= 500) return "ambiguous";
  return "definite";
}

/** Parses a Retry-After header (seconds or HTTP date) into milliseconds. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}
