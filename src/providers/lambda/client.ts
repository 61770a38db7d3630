// LambdaClient: the Lambda Cloud REST calls crabbox makes, over the shared HttpClient. Owns auth,
// the `{data}` / `{error}` envelopes and the mapping of Lambda error codes to ProviderError kinds.
// Contract: ../shared/contracts/lambda/openapi-1.10.0.json and openapi-1.8.3.json.

import * as z from "zod/mini";
import { HttpClient, classifyStatus, retryAfterMs, type HttpRequest } from "../http";
import { ProviderError, type ProviderErrorKind } from "../types";
import { HANDLE_PREFIX } from "./marker";
import * as wire from "./wire";

export interface LambdaClientOptions {
  baseUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** Lambda allows about one request per second, and one launch per 12 s (contracts/README.md). */
export const RATE_LIMIT_BACKOFF_MS = 1_000;
export const LAUNCH_INTERVAL_MS = 12_000;
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
  "global/object-does-not-exist": "not_found",
  "global/not-found": "not_found",
  "global/invalid-parameters": "invalid",
  "instance-operations/launch/file-system-in-wrong-region": "invalid",
  "global/duplicate": "definite",
  "global/conflict": "definite",
};

const KIND_BY_STATUS: Record<number, ProviderErrorKind> = { 400: "invalid", 401: "auth", 403: "auth", 404: "not_found" };

export class LambdaClient {
  private readonly http: HttpClient;

  constructor(options: LambdaClientOptions) {
    this.http = new HttpClient({
      baseUrl: options.baseUrl,
      headers: { authorization: `Bearer ${options.apiKey}` },
      secrets: [options.apiKey],
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
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
    const items = await this.call({ method: "GET", path: "/instances" }, z.array(z.unknown()));
    const instances: wire.Instance[] = [];
    for (const item of items) {
      const parsed = wire.Instance.safeParse(item);
      if (parsed.success) instances.push(parsed.data);
      else if (JSON.stringify(item).includes(HANDLE_PREFIX)) {
        throw new ProviderError("ambiguous", "GET /instances: an instance that may be ours does not match the published schema");
      }
    }
    return instances;
  }

  getInstance(id: string): Promise<wire.Instance> {
    return this.call({ method: "GET", path: `/instances/${encodeURIComponent(id)}` }, wire.Instance, "/instances/{id}");
  }

  /** Answers the launched instance ids. Any failure but a definite error code is ambiguous. */
  launch(body: wire.LaunchRequest): Promise<string[]> {
    const json = this.checkRequest("launch", wire.LaunchRequest, body);
    return this.call({ method: "POST", path: "/instance-operations/launch", json }, wire.LaunchResponse).then(
      (data) => data.instance_ids,
    );
  }

  terminate(instanceIds: string[]): Promise<wire.Instance[]> {
    const json = this.checkRequest("terminate", wire.TerminateRequest, { instance_ids: instanceIds });
    return this.call({ method: "POST", path: "/instance-operations/terminate", json }, wire.TerminateResponse).then(
      (data) => data.terminated_instances,
    );
  }

  listSshKeys(): Promise<wire.SshKey[]> {
    return this.call({ method: "GET", path: "/ssh-keys" }, z.array(wire.SshKey));
  }

  addSshKey(body: wire.AddSshKeyRequest): Promise<wire.SshKey> {
    const json = this.checkRequest("add SSH key", wire.AddSshKeyRequest, body);
    return this.call({ method: "POST", path: "/ssh-keys", json }, wire.SshKey);
  }

  async deleteSshKey(id: string): Promise<void> {
    await this.call({ method: "DELETE", path: `/ssh-keys/${encodeURIComponent(id)}` }, wire.EmptyResponse, "/ssh-keys/{id}");
  }

  listInstanceTypes(): Promise<wire.InstanceTypes> {
    return this.call({ method: "GET", path: "/instance-types" }, wire.InstanceTypes);
  }

  listImages(): Promise<wire.Image[]> {
    return this.call({ method: "GET", path: "/images" }, z.array(wire.Image));
  }

  /** A request that breaks the spec is our bug or bad config: refuse it before it leaves. */
  private checkRequest<T>(what: string, schema: z.ZodMiniType<T>, body: T): T {
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new ProviderError("invalid", `Lambda ${what} request rejected locally: invalid ${issuePaths(parsed.error)}`);
    }
    return parsed.data;
  }

  private async call<T>(req: HttpRequest, data: z.ZodMiniType<T>, route = req.path): Promise<T> {
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
    const kind = errorKind(res.status, code);
    const detail = envelope.success ? `${code}: ${envelope.data.error.message}` : `HTTP ${res.status}`;
    const message = this.redact(`${where}: HTTP ${res.status} ${detail}`).slice(0, MAX_PROVIDER_MESSAGE_CHARS);
    const retryAfter = kind === "rate_limited" ? rateLimitDelayMs(req, res.headers) : undefined;
    throw new ProviderError(kind, message, { status: res.status, code, retryAfterMs: retryAfter });
  }
}

/** 429, 408 and 5xx decide by status; otherwise Lambda's error code decides, then the status. */
export function errorKind(status: number, code: string | undefined): ProviderErrorKind {
  const generic = classifyStatus(status);
  if (generic === "rate_limited" || generic === "ambiguous") return generic;
  return (code !== undefined ? KIND_BY_CODE[code] : undefined) ?? KIND_BY_STATUS[status] ?? "definite";
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
