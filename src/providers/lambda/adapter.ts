// The Lambda Cloud ProviderAdapter: what create/recover/inspect/release/inventory mean on Lambda,
// on top of LambdaClient. The per-lease SSH key object is the idempotency handle and the
// ownership marker; release terminates the instance, waits for it, then deletes the key.

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
} from "../types";
import { LambdaClient } from "./client";
import { runDoctor } from "./doctor";
import { decodeMarker, leaseHandle, markerTags } from "./marker";
import { SSH_USER, type LambdaSettings } from "./settings";
import type { Instance, LaunchRequest, SshKey } from "./wire";

export const LAMBDA_CAPABILITIES: ProviderCapabilities = {
  releaseActions: ["destroy"],
  defaultReleaseAction: "destroy",
  readiness: "ssh_banner",
  resume: false,
  requires: ["type", "region"],
  keyHandling: "key_object",
};

export class LambdaAdapter implements ProviderAdapter {
  readonly name = "lambda";
  readonly capabilities = LAMBDA_CAPABILITIES;
  readonly defaults: { type?: string; region?: string };
  private readonly api?: LambdaClient;
  private readonly problems: string[];

  constructor(
    private readonly settings: LambdaSettings,
    options: { fetch?: typeof fetch } = {},
  ) {
    this.problems = [...settings.problems];
    this.defaults = { type: settings.defaultType, region: settings.defaultRegion };
    try {
      this.api = new LambdaClient({ baseUrl: settings.baseUrl, apiKey: settings.apiKey, fetch: options.fetch });
    } catch (err) {
      // A bad base URL is configuration: doctor reports it, every call refuses with it.
      this.problems.push(err instanceof Error ? err.message : "LAMBDA_BASE_URL is invalid");
    }
  }

  async doctor(): Promise<DoctorCheck[]> {
    if (!this.api || this.problems.length) {
      return [{ name: "config", status: "fail", class: "config", detail: this.problems.join("; "), hint: "fix the LAMBDA_* vars and secrets" }];
    }
    return runDoctor(this.api, this.settings);
  }

  async catalog(): Promise<CatalogEntry[]> {
    const types = await this.client().listInstanceTypes();
    return Object.entries(types)
      .map(([name, item]) => ({
        type: name,
        description: item.instance_type.description,
        priceCentsPerHour: item.instance_type.price_cents_per_hour,
        gpus: item.instance_type.specs.gpus,
        regions: item.regions_with_capacity_available.map((region) => region.name),
      }))
      .sort((a, b) => a.type.localeCompare(b.type));
  }

  handle(spec: LeaseSpec): string {
    return leaseHandle(spec.deploymentId, spec.leaseId);
  }

  async create(spec: LeaseSpec, attempt: { handle: string; number: number; firstAt: number }): Promise<ResourceRef> {
    const api = this.client();
    const { handle } = attempt;
    const launch = this.launchRequest(spec, handle);
    const key = await this.ensureKey(handle, spec.sshPublicKey);
    if (attempt.number > 1) {
      // An earlier attempt may have launched before its answer was lost: join it, never launch twice.
      const earlier = await this.recover(spec, handle);
      if (earlier.kind === "found") return { ...earlier.ref, data: { sshKeyId: key.id } };
      if (earlier.kind === "ambiguous") throw new ProviderError("definite", `${earlier.count} instances carry handle ${handle}`);
    }
    const ids = await api.launch(launch);
    const [id] = ids;
    // Lambda launches exactly what was asked (one instance); anything else is resolved by handle.
    if (ids.length !== 1 || !id) throw new ProviderError("ambiguous", `Lambda launch answered ${ids.length} instance ids, expected 1`);
    return { handle, id, data: { sshKeyId: key.id } };
  }

  async recover(_spec: LeaseSpec, handle: string): Promise<RecoverResult> {
    const matches = await this.instancesWithHandle(handle);
    const [only] = matches;
    if (matches.length === 1 && only) return { kind: "found", ref: { handle, id: only.id } };
    return matches.length === 0 ? { kind: "absent" } : { kind: "ambiguous", count: matches.length };
  }

  async inspect(ref: ResourceRef, spec: LeaseSpec): Promise<ResourceStatus> {
    if (!ref.id) {
      const found = await this.recover(spec, ref.handle);
      if (found.kind === "absent") return { phase: "gone", detail: "no instance carries this lease's handle" };
      if (found.kind === "ambiguous") return { phase: "unknown", detail: `${found.count} instances carry this lease's handle` };
      return this.inspect(found.ref, spec);
    }
    const instance = await this.findInstance(ref.id);
    return instance ? instanceStatus(instance, this.settings.sshPort) : { phase: "gone", detail: "instance does not exist" };
  }

  /**
   * One teardown step: terminate what this lease launched, wait until Lambda reports it gone,
   * then delete the lease's SSH key object. Done only when neither remains.
   */
  async release(ref: ResourceRef, action: ReleaseAction, _spec: LeaseSpec, options: { exact?: boolean } = {}): Promise<ReleaseStep> {
    if (action !== "destroy") throw new ProviderError("unsupported", `Lambda cannot ${action} an instance, only destroy it`);
    if (ref.id) {
      const instance = await this.findInstance(ref.id);
      if (instance && instance.status !== "terminated") {
        // The lease's record names this id; the key name on the machine must agree before we act.
        if (!instance.ssh_key_names.includes(ref.handle)) {
          throw new ProviderError("definite", "instance does not carry this lease's SSH key name; refusing to terminate it");
        }
        const step = await this.terminateStep(instance);
        if (step) return step;
      }
    }
    // The recorded instance is gone (or none was recorded): anything else launched under the handle?
    const others = (await this.instancesWithHandle(ref.handle)).filter((instance) => instance.id !== ref.id);
    if (options.exact) {
      // The sweep reclaims one orphan; a sibling under the same handle may be a live lease's.
      if (others.length > 0) return { done: true };
    } else {
      // The key name is unique to this lease: every instance launched with it is this lease's,
      // however many a lost answer and a retry left behind. Terminate them all.
      const steps = [];
      for (const other of others) steps.push(await this.terminateStep(other));
      const pending = steps.find((step) => step !== undefined);
      if (pending) return pending;
    }
    await this.deleteKeys(ref.handle);
    return { done: true };
  }

  async inventory(cursor?: string): Promise<InventoryPage> {
    // GET /instances is not paged: the whole account is the first page, and there is no second.
    if (cursor !== undefined) return { items: [] };
    const instances = await this.client().listInstances();
    return {
      items: instances.map((instance) => ({
        id: instance.id,
        status: instance.status,
        marker: decodeMarker(instance, this.settings.deploymentId),
      })),
    };
  }

  private client(): LambdaClient {
    if (!this.api || this.problems.length) throw new ProviderError("invalid", `Lambda is misconfigured: ${this.problems.join("; ")}`);
    return this.api;
  }

  private launchRequest(spec: LeaseSpec, handle: string): LaunchRequest {
    const region = spec.region ?? this.settings.defaultRegion;
    const type = spec.type ?? this.settings.defaultType;
    if (!region) throw new ProviderError("invalid", "no Lambda region: request one or set LAMBDA_DEFAULT_REGION");
    if (!type) throw new ProviderError("invalid", "no Lambda instance type: request one or set LAMBDA_DEFAULT_TYPE");
    // A lease's `image` names an image family (ImageSpecificationFamily), as LAMBDA_IMAGE_FAMILY does.
    const family = spec.image ?? this.settings.imageFamily;
    const ruleset = this.settings.firewallRulesetId;
    return {
      region_name: region,
      instance_type_name: type,
      ssh_key_names: [handle],
      name: handle,
      tags: markerTags(spec.deploymentId, spec.leaseId),
      ...(family ? { image: { family } } : {}),
      ...(ruleset ? { firewall_rulesets: [{ id: ruleset }] } : {}),
    };
  }

  /** The lease's key object, registered once: an earlier attempt's key is reused if it matches. */
  private async ensureKey(handle: string, publicKey: string): Promise<SshKey> {
    const existing = await this.keyNamed(handle, publicKey);
    if (existing) return existing;
    try {
      return await this.client().addSshKey({ name: handle, public_key: publicKey.trim() });
    } catch (err) {
      // A racing or lost earlier registration makes the name taken: reuse it if it is ours.
      if (!(err instanceof ProviderError) || (err.kind !== "invalid" && err.kind !== "definite")) throw err;
      const raced = await this.keyNamed(handle, publicKey);
      if (raced) return raced;
      throw err;
    }
  }

  private async keyNamed(handle: string, publicKey: string): Promise<SshKey | undefined> {
    const named = (await this.client().listSshKeys()).filter((key) => key.name === handle);
    if (named.some((key) => keyMaterial(key.public_key) !== keyMaterial(publicKey))) {
      throw new ProviderError("definite", `an SSH key named ${handle} already exists with a different public key`);
    }
    return named[0];
  }

  private async deleteKeys(handle: string): Promise<void> {
    const keys = (await this.client().listSshKeys()).filter((key) => key.name === handle);
    for (const key of keys) {
      try {
        await this.client().deleteSshKey(key.id);
      } catch (err) {
        // An unknown key id may answer 400 rather than 404 (contracts/README.md): both mean gone.
        if (!(err instanceof ProviderError) || (err.kind !== "not_found" && err.kind !== "invalid")) throw err;
      }
    }
  }

  /** Terminates a live instance; undefined when nothing is left to wait for. */
  private async terminateStep(instance: Instance): Promise<ReleaseStep | undefined> {
    if (instance.status === "terminating") return { done: false, detail: "terminating" };
    try {
      await this.client().terminate([instance.id]);
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      // Gone between our read and the terminate.
      if (err.kind === "not_found") return undefined;
      // Lambda already reclaimed a preempted machine; if it refuses to terminate it, nothing runs.
      if (err.kind === "invalid" && instance.status === "preempted") return undefined;
      throw err;
    }
    return { done: false, detail: "terminate requested" };
  }

  /** Live (not terminated) instances whose SSH key names include the handle. */
  private async instancesWithHandle(handle: string): Promise<Instance[]> {
    const instances = await this.client().listInstances();
    return instances.filter((instance) => instance.status !== "terminated" && instance.ssh_key_names.includes(handle));
  }

  private async findInstance(id: string): Promise<Instance | undefined> {
    try {
      return await this.client().getInstance(id);
    } catch (err) {
      if (err instanceof ProviderError && err.kind === "not_found") return undefined;
      throw err;
    }
  }
}

/**
 * Total map of Lambda's InstanceStatus (openapi-1.10.0.json). `unhealthy` maps to `unknown`,
 * not `failed` or `gone`: Lambda still bills and may recover it, so the lease keeps owning it
 * and its own deadlines (ack, idle, TTL) release it rather than an abandoned guess.
 */
export function instanceStatus(instance: Instance, sshPort: number): ResourceStatus {
  switch (instance.status) {
    case "booting":
      return { phase: "pending", detail: "booting" };
    case "active":
      if (!instance.ip) return { phase: "pending", detail: "active, waiting for an IP address" };
      return { phase: "running", endpoint: { kind: "ssh", host: instance.ip, port: sshPort, user: SSH_USER }, ready: false, detail: "active" };
    case "unhealthy":
      return { phase: "unknown", detail: "unhealthy" };
    case "terminating":
      return { phase: "terminating", detail: "terminating" };
    case "terminated":
      return { phase: "gone", detail: "terminated" };
    case "preempted":
      return { phase: "failed", detail: "preempted" };
    default:
      return { phase: "unknown", detail: `unrecognised Lambda status ${JSON.stringify(instance.status.slice(0, 40))}` };
  }
}

/** `type base64`, ignoring the comment and whitespace, which Lambda may not keep verbatim. */
function keyMaterial(publicKey: string): string {
  return publicKey.trim().split(/\s+/).slice(0, 2).join(" ");
}
