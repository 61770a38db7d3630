// SealosClient: the Kubernetes REST calls crabbox makes for DevBoxes and their Secrets (bearer
// token, one namespace), over the shared HttpClient. Errors are apimachinery `Status` objects:
// classified by `reason` and `code` (controller-and-api-facts.md §3).

import * as z from "zod/mini";
import type { Pacer, RateLimits } from "../../pacing/gcra";
import { classifyStatus, HttpClient, retryAfterMs, type HttpRequest } from "../http";
import { ProviderError, type ProviderErrorKind } from "../types";
import * as wire from "./wire";

export interface SealosClientOptions {
  apiServer: string;
  token: string;
  namespace: string;
  fetch?: typeof fetch;
  pacer?: Pacer;
  sharedReads?: boolean;
}

/**
 * ASSUMPTION: Kubernetes has no documented per-client rate; API Priority and Fairness answers
 * 429 with Retry-After when a flow is saturated. client-go's own default is 5/s, burst 10.
 */
export const SEALOS_RATE_LIMITS: RateLimits = { account: { intervalMs: 200, burst: 10 } };
const MAX_PROVIDER_MESSAGE_CHARS = 240;
export const PAGE = 100;
const MERGE_PATCH = "application/merge-patch+json";
const METADATA_LIST = "application/json;as=PartialObjectMetadataList";

export type Preconditions = { uid: string; resourceVersion?: string };
type Query = HttpRequest["query"];

export class SealosClient {
  private readonly http: HttpClient;
  private readonly devboxes: string;
  private readonly secrets: string;

  constructor(options: SealosClientOptions) {
    this.http = new HttpClient({
      baseUrl: options.apiServer,
      headers: { authorization: `Bearer ${options.token}` },
      secrets: [options.token],
      fetch: options.fetch,
      pacer: options.pacer,
      sharedReads: options.sharedReads,
    });
    const ns = encodeURIComponent(options.namespace);
    this.devboxes = `/apis/${wire.API_VERSION}/namespaces/${ns}/devboxes`;
    this.secrets = `/api/v1/namespaces/${ns}/secrets`;
  }

  version() {
    return this.call({ method: "GET", path: "/version" }, wire.Version, "GET /version");
  }

  /** The group version's resource list (discovery): does the cluster serve `devboxes`? */
  devboxResources() {
    return this.call({ method: "GET", path: `/apis/${wire.API_VERSION}` }, wire.ResourceList, `GET /apis/${wire.API_VERSION}`);
  }

  rulesReview(namespace: string) {
    const body = { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectRulesReview", spec: { namespace } };
    return this.call({ method: "POST", path: "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", json: body }, wire.RulesReview, "POST selfsubjectrulesreviews");
  }

  createDevbox(body: unknown, options: { dryRun?: boolean } = {}) {
    // Strict: a field the cluster's CRD does not declare fails the create instead of being pruned.
    const query = { fieldManager: "crabbox", fieldValidation: "Strict", ...(options.dryRun ? { dryRun: "All" } : {}) };
    return this.call({ method: "POST", path: this.devboxes, query, json: body }, wire.Devbox, "POST devboxes");
  }

  /** By name; undefined only on the API server's own NotFound for exactly this name. */
  getDevbox(name: string) {
    return this.orNone(name, this.call({ method: "GET", path: `${this.devboxes}/${encodeURIComponent(name)}` }, wire.Devbox, "GET devboxes/{name}"));
  }

  /** One page of DevBoxes matching `selector`; items parsed one by one by the caller. */
  listDevboxes(selector: string, cursor?: string) {
    const query: Query = { labelSelector: selector, limit: PAGE, continue: cursor };
    return this.call({ method: "GET", path: this.devboxes, query, shareMs: 1_000 }, wire.List, "GET devboxes");
  }

  /** A JSON merge patch (never strategic merge: custom resources do not support it). */
  patchDevbox(name: string, patch: unknown) {
    return this.call(
      { method: "PATCH", path: `${this.devboxes}/${encodeURIComponent(name)}`, query: { fieldManager: "crabbox" }, json: patch, contentType: MERGE_PATCH },
      wire.Devbox,
      "PATCH devboxes/{name}",
    );
  }

  /** Delete with preconditions; undefined when already gone. The object may linger with finalizers. */
  deleteDevbox(name: string, preconditions: Preconditions) {
    const body = { apiVersion: "v1", kind: "DeleteOptions", preconditions, propagationPolicy: "Background" };
    return this.orNone(name, this.call({ method: "DELETE", path: `${this.devboxes}/${encodeURIComponent(name)}`, json: body }, z.unknown(), "DELETE devboxes/{name}"));
  }

  createSecret(body: unknown, privateKey: string) {
    return this.call({ method: "POST", path: this.secrets, query: { fieldManager: "crabbox" }, json: body }, wire.Secret, "POST secrets", [privateKey]);
  }

  getSecret(name: string) {
    return this.orNone(name, this.call({ method: "GET", path: `${this.secrets}/${encodeURIComponent(name)}` }, wire.Secret, "GET secrets/{name}"));
  }

  /** One page of Secrets matching `selector`, metadata only (never their data). */
  listSecretMetadata(selector: string, cursor?: string) {
    const query: Query = { labelSelector: selector, limit: PAGE, continue: cursor };
    const headers = { accept: `${METADATA_LIST};g=meta.k8s.io;v=v1, application/json` };
    return this.call({ method: "GET", path: this.secrets, query, headers }, wire.MetadataList, "GET secrets");
  }

  deleteSecret(name: string, preconditions: Preconditions) {
    const body = { apiVersion: "v1", kind: "DeleteOptions", preconditions };
    return this.orNone(name, this.call({ method: "DELETE", path: `${this.secrets}/${encodeURIComponent(name)}`, json: body }, z.unknown(), "DELETE secrets/{name}"));
  }

  private async orNone<T>(name: string, call: Promise<T>): Promise<T | undefined> {
    try {
      return await call;
    } catch (err) {
      if (err instanceof ProviderError && err.kind === "not_found" && err.options.code === `NotFound:${name}`) return undefined;
      throw err;
    }
  }

  private async call<T>(req: HttpRequest, data: z.ZodMiniType<T>, route: string, extraSecrets: string[] = []): Promise<T> {
    const res = await this.http.request(req);
    const where = `Kubernetes ${route}`;
    if (res.status >= 200 && res.status < 300) {
      const parsed = data.safeParse(res.body);
      if (!parsed.success) throw new ProviderError("ambiguous", `${where}: unexpected response shape`, { status: res.status });
      return parsed.data;
    }
    const parsed = wire.Status.safeParse(res.body);
    const status = parsed.success ? parsed.data : undefined;
    const kind = errorKind(res.status, status);
    const causes = (status?.details?.causes ?? []).map((c) => [c.field, c.message].filter(Boolean).join(": ")).join("; ");
    let text = `${where}: HTTP ${res.status}${status?.reason ? ` ${status.reason}` : ""}${status?.message ? `: ${status.message}` : ""}${causes && !status?.message?.includes(causes) ? ` (${causes})` : ""}`;
    for (const secret of extraSecrets) text = text.split(secret).join("[redacted]");
    const message = this.http.redact(text).slice(0, MAX_PROVIDER_MESSAGE_CHARS);
    // `code` carries reason:name so callers match the exact object (a NotFound for the
    // namespace or the resource type is not "this DevBox is gone").
    const code = status?.reason ? `${status.reason}:${status.details?.name ?? ""}` : undefined;
    const retryAfter = status?.details?.retryAfterSeconds ? status.details.retryAfterSeconds * 1000 : retryAfterMs(res.headers);
    throw new ProviderError(kind, message, { status: res.status, code, retryAfterMs: kind === "rate_limited" ? retryAfter ?? 1_000 : undefined });
  }
}

/** The reason a Status names, for callers matching AlreadyExists, Conflict, Invalid. */
export function reasonOf(err: unknown): string | undefined {
  return err instanceof ProviderError ? err.options.code?.split(":")[0] : undefined;
}

/**
 * Status → our kinds. Only a `NotFound` Status is `not_found` (a bare 404 from a proxy proves
 * nothing); Conflict and AlreadyExists are definite (the caller re-reads); 5xx and Timeouts are
 * ambiguous.
 */
export function errorKind(status: number, body: wire.Status | undefined): ProviderErrorKind {
  const generic = classifyStatus(status);
  if (generic === "rate_limited" || generic === "ambiguous") return generic;
  if (status === 401 || status === 403) return "auth";
  if (status === 404) return body?.reason === "NotFound" ? "not_found" : "ambiguous";
  if (status === 400 || status === 422) return "invalid";
  return "definite";
}
