// CoderClient: the Coder REST calls crabbox makes (`/api/v2`, `Coder-Session-Token`), over the
// shared HttpClient, with Coder's error body and its classification (contracts/coder/).

import * as z from "zod/mini";
import type { Pacer, RateLimits } from "../../pacing/gcra";
import { classifyStatus, HttpClient, retryAfterMs, type HttpRequest } from "../http";
import { ProviderError, type ProviderErrorKind } from "../types";
import * as wire from "./wire";

export interface CoderClientOptions {
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
  pacer?: Pacer;
  sharedReads?: boolean;
}

/** `--api-rate-limit` defaults to 512 requests per minute per user and endpoint (server.md). */
export const CODER_RATE_LIMITS: RateLimits = { account: { intervalMs: 60_000 / 512, burst: 32 } };
const MAX_PROVIDER_MESSAGE_CHARS = 200;
const PAGE = 100;

export class CoderClient {
  private readonly http: HttpClient;

  constructor(options: CoderClientOptions) {
    this.http = new HttpClient({
      baseUrl: options.baseUrl.replace(/\/$/, "") + "/api/v2",
      headers: { "coder-session-token": options.token },
      secrets: [options.token],
      fetch: options.fetch,
      pacer: options.pacer,
      sharedReads: options.sharedReads,
    });
  }

  me() {
    return this.call({ method: "GET", path: "/users/me" }, wire.User, "GET /users/me");
  }

  organization(name: string) {
    return this.call({ method: "GET", path: `/organizations/${encodeURIComponent(name)}` }, wire.Organization, "GET /organizations/{org}");
  }

  template(orgId: string, name: string) {
    return this.call({ method: "GET", path: `/organizations/${orgId}/templates/${encodeURIComponent(name)}` }, wire.Template, "GET /organizations/{org}/templates/{name}");
  }

  /**
   * POST /authcheck (codersdk AuthorizationRequest): may this token create workspaces owned by
   * any user in the organization? The frontend asks the same with owner_id "*".
   */
  async mayCreateForOthers(orgId: string): Promise<boolean> {
    const checks = { createForOthers: { object: { resource_type: "workspace", owner_id: "*", organization_id: orgId }, action: "create" } };
    const answer = await this.call({ method: "POST", path: "/authcheck", json: { checks } }, z.record(z.string(), z.boolean()), "POST /authcheck");
    return answer.createForOthers === true;
  }

  /** The resources (and their agents) a template version would create: GET /templateversions/{id}/resources. */
  templateResources(versionId: string) {
    return this.call({ method: "GET", path: `/templateversions/${encodeURIComponent(versionId)}/resources` }, z.array(wire.TemplateResource), "GET /templateversions/{id}/resources");
  }

  /** The presets of a template version. */
  presets(versionId: string) {
    return this.call({ method: "GET", path: `/templateversions/${encodeURIComponent(versionId)}/presets` }, z.array(wire.Preset), "GET /templateversions/{id}/presets");
  }

  /** The rich parameters a template version declares. */
  templateParameters(versionId: string) {
    return this.call({ method: "GET", path: `/templateversions/${encodeURIComponent(versionId)}/rich-parameters` }, z.array(wire.TemplateParameter), "GET /templateversions/{id}/rich-parameters");
  }

  /** Answers 201 with the workspace (the SDK accepts nothing else; we accept any 2xx). */
  createWorkspace(orgId: string, user: string, body: { name: string; template_id: string; template_version_preset_id?: string; rich_parameter_values?: { name: string; value: string }[] }) {
    return this.call(
      { method: "POST", path: `/organizations/${orgId}/members/${encodeURIComponent(user)}/workspaces`, json: body },
      wire.Workspace,
      "POST /organizations/{org}/members/{user}/workspaces",
    );
  }

  /** By owner and name; undefined on 404 (deleted, or invisible to this token). */
  async workspaceByName(user: string, name: string): Promise<wire.Workspace | undefined> {
    return this.orNone(this.call({ method: "GET", path: `/users/${encodeURIComponent(user)}/workspace/${encodeURIComponent(name)}` }, wire.Workspace, "GET /users/{user}/workspace/{name}"));
  }

  async workspace(id: string): Promise<wire.Workspace | undefined> {
    return this.orNone(this.call({ method: "GET", path: `/workspaces/${encodeURIComponent(id)}` }, wire.Workspace, "GET /workspaces/{id}"));
  }

  /** One page of workspaces whose name starts with `prefix`, parsed one by one. */
  async workspaces(prefix: string, offset: number): Promise<{ workspaces: wire.Workspace[]; next?: number }> {
    const page = await this.call({ method: "GET", path: "/workspaces", query: { q: `name:${prefix}`, limit: PAGE, offset } }, wire.WorkspaceList, "GET /workspaces");
    const workspaces = page.workspaces.flatMap((item) => {
      const parsed = wire.Workspace.safeParse(item);
      if (parsed.success) return [parsed.data];
      if (JSON.stringify(item).includes(prefix)) throw new ProviderError("ambiguous", "Coder GET /workspaces: a workspace that may be ours does not match the documented shape");
      return [];
    });
    const next = offset + page.workspaces.length;
    return { workspaces, next: page.workspaces.length === PAGE && next < page.count ? next : undefined };
  }

  build(workspaceId: string, transition: "start" | "stop" | "delete") {
    return this.call({ method: "POST", path: `/workspaces/${encodeURIComponent(workspaceId)}/builds`, json: { transition } }, wire.Build, "POST /workspaces/{id}/builds");
  }

  private async orNone<T>(call: Promise<T>): Promise<T | undefined> {
    try {
      return await call;
    } catch (err) {
      if (err instanceof ProviderError && err.kind === "not_found") return undefined;
      throw err;
    }
  }

  private async call<T>(req: HttpRequest, data: z.ZodMiniType<T>, route: string): Promise<T> {
    const res = await this.http.request(req);
    const where = `Coder ${route}`;
    if (res.status >= 200 && res.status < 300) {
      const parsed = data.safeParse(res.body);
      if (!parsed.success) throw new ProviderError("ambiguous", `${where}: unexpected response shape`, { status: res.status });
      return parsed.data;
    }
    const body = wire.ErrorBody.safeParse(res.body);
    const kind = errorKind(res.status, body.success ? body.data : undefined);
    const detail = body.success ? [body.data.message, body.data.detail, ...(body.data.validations ?? []).map((v) => `${v.field}: ${v.detail}`)].filter(Boolean).join("; ") : "";
    const message = this.http.redact(`${where}: HTTP ${res.status}${detail ? ` ${detail}` : ""}`).slice(0, MAX_PROVIDER_MESSAGE_CHARS);
    throw new ProviderError(kind, message, { status: res.status, code: body.success && body.data.validations?.[0]?.field === "name" ? "name_taken" : undefined, retryAfterMs: kind === "rate_limited" ? retryAfterMs(res.headers) ?? 1_000 : undefined });
  }
}

/** 409 with a `name` validation is a taken name (definite; the adapter decides whether it is ours). */
export function errorKind(status: number, body: z.infer<typeof wire.ErrorBody> | undefined): ProviderErrorKind {
  const generic = classifyStatus(status);
  if (generic === "rate_limited" || generic === "ambiguous") return generic;
  if (status === 401 || status === 403) return "auth";
  // A 404 with Coder's body: gone, or invisible to this token (the same to us).
  if (status === 404) return body ? "not_found" : "ambiguous";
  if (status === 400) return "invalid";
  return "definite";
}
