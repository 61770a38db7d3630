// The Coder ProviderAdapter: a lease is a workspace created for the lease's owner from the
// operator's template, named by the lease's handle. Readiness is Coder's own signal (a linux
// agent connected and ready); the endpoint is a ProxyCommand through the client's `coder` CLI.
// Release follows the recorded action: a stop build (the default) or a delete build.

import {
  ProviderError,
  type CatalogEntry,
  type DoctorCheck,
  type InventoryPage,
  type LeaseSpec,
  type ProviderAdapter,
  type ProviderCapabilities,
  type RecoverResult,
  type ReleaseAction,
  type ReleaseStep,
  type ResourceRef,
  type ResourceStatus,
  type SideObject,
} from "../types";
import type { Pacer } from "../../pacing/gcra";
import { CoderClient } from "./client";
import { runDoctor } from "./doctor";
import { decodeMarker, leaseHandle, namePrefix } from "./marker";
import type { CoderSettings } from "./settings";
import type { TemplateParameter, Workspace } from "./wire";

export const CODER_CAPABILITIES: ProviderCapabilities = {
  releaseActions: ["stop", "destroy"],
  defaultReleaseAction: "stop",
  // Nothing the coordinator can reach: the client's `coder ssh --stdio` is the route.
  route: "proxy",
  readiness: "adapter",
  // Reads by name are consistent: a lost create answer shows up at once.
  createSettleMs: 60_000,
  idempotentCreate: false,
  ownership: "marker",
  stoppedBills: false,
  templateParameters: true,
  proxyClient: { command: "coder", login: "`coder login <CODER_URL>` as the lease's owner, or set CODER_URL and CODER_SESSION_TOKEN" },
  resume: true,
  requires: [],
  keyHandling: "template",
};

const USERNAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$/;

export class CoderAdapter implements ProviderAdapter {
  readonly name = "coder";
  readonly capabilities = CODER_CAPABILITIES;
  readonly defaults = {};
  private readonly api?: CoderClient;
  private readonly problems: string[];

  constructor(
    private readonly settings: CoderSettings,
    options: { fetch?: typeof fetch; pacer?: Pacer; sharedReads?: boolean } = {},
  ) {
    this.problems = [...settings.problems];
    try {
      this.api = new CoderClient({ baseUrl: settings.url, token: settings.token, ...options });
    } catch (err) {
      this.problems.push(err instanceof Error ? err.message : "CODER_URL is invalid");
    }
  }

  async validate(spec: LeaseSpec): Promise<string[]> {
    const problems: string[] = [];
    // The workspace belongs to the lease's owner in Coder: their Coder username.
    if (!USERNAME.test(coderUser(spec))) problems.push(`${JSON.stringify(coderUser(spec))} is not a Coder username: an admin can set the owner's on their token (providerUsers.coder)`);
    if (spec.type !== undefined || spec.region !== undefined || spec.image !== undefined) problems.push("Coder workspaces come from the operator's template: a lease names no type, region or image");
    if (spec.maxPricePerHour !== undefined) problems.push("Coder has no prices: maxPricePerHour does not apply");
    if (problems.length || !spec.parameters) return problems;
    // Parameters are checked against what the template's active version declares.
    const api = this.client();
    const org = await api.organization(this.settings.organization);
    const template = await api.template(org.id, this.settings.template);
    return parameterProblems(spec.parameters, await api.templateParameters(template.active_version_id));
  }

  async doctor(): Promise<DoctorCheck[]> {
    if (!this.api || this.problems.length) return [{ name: "config", status: "fail", class: "config", detail: this.problems.join("; "), hint: "fix the CODER_* vars and secrets" }];
    return runDoctor(this.api, this.settings, namePrefix(this.settings.deploymentId));
  }

  async catalog(): Promise<CatalogEntry[]> {
    const api = this.client();
    const org = await api.organization(this.settings.organization);
    const template = await api.template(org.id, this.settings.template);
    const params = await api.templateParameters(template.active_version_id);
    const described = params.map((p) => {
      const options = (p.options ?? []).map((o) => o.value);
      const choice = options.length ? ` ${options.join("|")}` : ` ${p.type ?? "string"}`;
      return `${p.name}${choice}${p.default_value ? ` (default ${p.default_value})` : p.required ? " (required)" : ""}`;
    });
    const parameters = described.length ? `; --param ${described.join(", ")}` : "";
    return [{ type: template.name, description: `Coder template ${template.name} in ${org.name}${parameters}`, regions: [] }];
  }

  async priceCentsPerHour(): Promise<number | undefined> {
    return this.settings.priceCentsPerHour;
  }

  handle(spec: LeaseSpec): string {
    return leaseHandle(spec.deploymentId, spec.leaseId);
  }

  /**
   * Creates the workspace for the lease's owner. A taken name (409) is adopted only when it is
   * this lease's own handle and came from the operator's template: never someone else's.
   */
  async create(spec: LeaseSpec, attempt: { handle: string }): Promise<ResourceRef> {
    const api = this.client();
    const org = await api.organization(this.settings.organization);
    const template = await api.template(org.id, this.settings.template);
    try {
      const values = Object.entries(spec.parameters ?? {}).map(([name, value]) => ({ name, value }));
      const preset = this.settings.preset ? await this.presetId(api, template.active_version_id) : undefined;
      const body = {
        name: attempt.handle,
        template_id: template.id,
        ...(preset ? { template_version_preset_id: preset } : {}),
        ...(values.length ? { rich_parameter_values: values } : {}),
      };
      const workspace = await api.createWorkspace(org.id, coderUser(spec), body);
      return refOf(workspace, attempt.handle);
    } catch (err) {
      if (!(err instanceof ProviderError) || err.options.status !== 409) throw err;
      const existing = await api.workspaceByName(coderUser(spec), attempt.handle);
      if (!existing || existing.template_id !== template.id || existing.owner_name !== coderUser(spec)) {
        throw new ProviderError("definite", `a workspace named ${attempt.handle} exists that this lease did not create; refusing to adopt it`);
      }
      return refOf(existing, attempt.handle);
    }
  }

  async recover(spec: LeaseSpec, handle: string): Promise<RecoverResult> {
    const workspace = await this.client().workspaceByName(coderUser(spec), handle);
    return workspace ? { kind: "found", ref: refOf(workspace, handle) } : { kind: "absent" };
  }

  async inspect(ref: ResourceRef, spec: LeaseSpec): Promise<ResourceStatus> {
    const workspace = ref.id ? await this.client().workspace(ref.id) : await this.client().workspaceByName(coderUser(spec), ref.handle);
    if (!workspace) return { phase: "gone", detail: "Coder answers 404 for the workspace" };
    return workspaceStatus(workspace, this.settings.url);
  }

  async release(ref: ResourceRef, action: ReleaseAction): Promise<ReleaseStep> {
    const api = this.client();
    if (!ref.id) return { done: true };
    const workspace = await api.workspace(ref.id);
    // Gone (404) ends either action: a delete is confirmed, and nothing is left to stop. One 404
    // may be transient: gone only when the listing of this deployment's workspaces agrees.
    if (!workspace) return (await this.listed(ref.id)) ? { done: false, detail: "a 404 the listing contradicts: looking again" } : { done: true };
    const build = workspace.latest_build;
    if (action === "stop") {
      if (build.transition === "stop" && build.status === "stopped") return { done: true };
      if (build.transition === "stop" && isBusy(build.status)) return { done: false, detail: `stopping (${build.status})` };
      if (isBusy(build.status)) return { done: false, detail: `waiting for the ${build.transition} build (${build.status})` };
      await api.build(ref.id, "stop");
      return { done: false, detail: "stop build started" };
    }
    if (build.transition === "delete" && build.status !== "failed") return { done: false, detail: `deleting (${build.status})` };
    if (isBusy(build.status)) return { done: false, detail: `waiting for the ${build.transition} build (${build.status})` };
    await api.build(ref.id, "delete");
    return { done: false, detail: "delete build started" };
  }

  async resume(ref: ResourceRef): Promise<void> {
    if (!ref.id) throw new ProviderError("definite", "no workspace recorded to resume");
    await this.client().build(ref.id, "start");
  }

  /** None: Coder keeps nothing beside the workspace for a lease (SSH goes through the template and the `coder` CLI). */
  async sideObjects(): Promise<SideObject[]> {
    return [];
  }

  /** Never asked: there are no side objects to strand. */
  async removeSideObject(_object: SideObject): Promise<void> {}

  async inventory(cursor?: string): Promise<InventoryPage> {
    const prefix = namePrefix(this.settings.deploymentId);
    const page = await this.client().workspaces(prefix, cursor === undefined ? 0 : Number(cursor));
    return {
      items: page.workspaces
        .filter((w) => w.name.startsWith(prefix))
        .map((w) => ({ id: w.id, status: `${w.latest_build.transition}:${w.latest_build.status}`, marker: decodeMarker(w.name, this.settings.deploymentId) })),
      next: page.next === undefined ? undefined : String(page.next),
    };
  }

  /** Whether this deployment's workspace listing (every page) still shows the workspace. */
  private async listed(id: string): Promise<boolean> {
    const prefix = namePrefix(this.settings.deploymentId);
    let offset: number | undefined = 0;
    for (let page = 0; offset !== undefined && page < 50; page++) {
      const answer = await this.client().workspaces(prefix, offset);
      if (answer.workspaces.some((w) => w.id === id)) return true;
      offset = answer.next;
    }
    if (offset !== undefined) throw new ProviderError("ambiguous", "Coder's workspace listing did not end: cannot confirm the workspace is gone");
    return false;
  }

  /** CODER_TEMPLATE_PRESET's id in the active version; a preset gone is a definite failure. */
  private async presetId(api: CoderClient, versionId: string): Promise<string> {
    const preset = (await api.presets(versionId)).find((p) => p.Name === this.settings.preset);
    if (!preset) throw new ProviderError("invalid", `the template's active version has no preset ${JSON.stringify(this.settings.preset)} (CODER_TEMPLATE_PRESET)`);
    return preset.ID;
  }

  private client(): CoderClient {
    if (!this.api || this.problems.length) throw new ProviderError("invalid", `Coder is misconfigured: ${this.problems.join("; ")}`);
    return this.api;
  }
}

/** What Coder would refuse: names the template does not declare, values outside its options or regex. */
export function parameterProblems(given: Record<string, string>, declared: TemplateParameter[]): string[] {
  const byName = new Map(declared.map((p) => [p.name, p]));
  const problems: string[] = [];
  for (const [name, value] of Object.entries(given)) {
    const param = byName.get(name);
    if (!param) {
      problems.push(`the template declares no parameter ${JSON.stringify(name)} (it has: ${declared.map((p) => p.name).join(", ") || "none"})`);
      continue;
    }
    const options = param.options ?? [];
    if (options.length && !options.some((o) => o.value === value)) problems.push(`${name} must be one of ${options.map((o) => o.value).join(", ")}`);
    const pattern = param.validation_regex ? safeRegex(param.validation_regex) : undefined;
    if (pattern && !pattern.test(value)) problems.push(`${name} does not match the template's pattern ${param.validation_regex}`);
  }
  return problems;
}

function safeRegex(source: string): RegExp | undefined {
  try {
    return new RegExp(source);
  } catch {
    return undefined; // Coder validates with Go's regexp; a pattern JS cannot read is left to Coder.
  }
}

/** The lease owner's Coder username: set by an admin on their token, else the owner name. */
const coderUser = (spec: LeaseSpec) => spec.providerUser ?? spec.owner;

function refOf(workspace: Workspace, handle: string): ResourceRef {
  return { handle, id: workspace.id, data: { owner: workspace.owner_name } };
}

const BUSY = new Set(["pending", "starting", "stopping", "deleting", "canceling"]);
const isBusy = (status: string) => BUSY.has(status);

/**
 * Total map of the latest build and its agents: running with a linux agent connected and
 * ready is SSH-ready; a failed build or an agent that failed to start will not become usable.
 */
export function workspaceStatus(workspace: Workspace, url: string): ResourceStatus {
  const build = workspace.latest_build;
  const agents = (build.resources ?? []).flatMap((r) => r.agents ?? []);
  if (build.status === "failed") return { phase: "failed", detail: `build failed: ${build.job.error ?? "no error text"}` };
  if (build.transition === "delete") return build.status === "deleted" ? { phase: "gone", detail: "deleted" } : { phase: "terminating", detail: build.status };
  if (build.transition === "stop") return build.status === "stopped" ? { phase: "stopped", detail: "stopped" } : { phase: "stopping", detail: build.status };
  if (build.status === "pending" || build.status === "starting") return { phase: "pending", detail: `build ${build.status}` };
  if (build.status !== "running") return { phase: "unknown", detail: `build ${build.status}` };
  const linux = agents.find((a) => a.operating_system === "linux");
  if (!linux) return { phase: "failed", detail: "the template has no linux agent" };
  if (linux.lifecycle_state === "start_error" || linux.lifecycle_state === "start_timeout") return { phase: "failed", detail: `agent ${linux.lifecycle_state}` };
  const target = `${workspace.owner_name}/${workspace.name}`;
  // The agent logs any SSH user in as the workspace's own; `coder config-ssh` uses "coder" too.
  const endpoint = { kind: "proxy" as const, user: "coder", host: `coder.${workspace.name}`, proxyCommand: ["coder", "ssh", "--stdio", target], url };
  const ready = linux.status === "connected" && linux.lifecycle_state === "ready";
  return { phase: "running", endpoint, ready, route: "proxy", detail: `agent ${linux.status}/${linux.lifecycle_state}` };
}
