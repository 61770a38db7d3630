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
  type SideObject,
} from "../types";
import type { Pacer } from "../../pacing/gcra";
import { LambdaClient } from "./client";
import { runDoctor } from "./doctor";
import { decodeMarker, keyMarker, leaseHandle, markerTags } from "./marker";
import { SSH_USER, type LambdaSettings } from "./settings";
import type { Instance, LaunchRequest, SshKey } from "./wire";

export const LAMBDA_CAPABILITIES: ProviderCapabilities = {
  releaseActions: ["destroy"],
  defaultReleaseAction: "destroy",
  route: "direct",
  readiness: "ssh_banner",
  // A launch that outlived its request may surface seconds later; two minutes is well past
  // the client timeout plus Lambda's own lag.
  createSettleMs: 2 * 60_000,
  idempotentCreate: false,
  ownership: "marker",
  stoppedBills: false,
  // InstanceLaunchRequest.user_data: cloud-init user-data, "cannot exceed 1MB" (openapi-1.8.3.json).
  bootHook: { field: "user_data", maxBytes: 1_000_000, cloudInit: true },
  resume: false,
  requires: ["type", "region"],
  keyHandling: "key_object",
};

/** Key types Lambda's key objects take; AddSSHKeyRequest.public_key is at most 4096 chars. */
const PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;
const MAX_PUBLIC_KEY_CHARS = 4096;
/** Instance type and region names as Lambda spells them (gpu_1x_a10, us-east-1). */
const TYPE_NAME = /^[a-z0-9][a-z0-9_]{0,63}$/;
const REGION_NAME = /^[a-z]+(-[a-z]+)+-[0-9]+$/;
/** ImageSpecificationID: an image id is a UUID; anything else names a family. */
const IMAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Instances that are, or may still become, a usable machine: what recovery may bind. */
const USABLE = new Set(["booting", "active", "unhealthy"]);

/** How old a shared types listing may be when only its prices are read. */
const PRICE_SHARE_MS = 60_000;
/** When a fresh read cannot be made (the account is busy), a price list up to an hour old does. */
const PRICE_STALE_IF_ERROR_MS = 3_600_000;

export class LambdaAdapter implements ProviderAdapter {
  readonly name = "lambda";
  readonly capabilities = LAMBDA_CAPABILITIES;
  readonly defaults: { type?: string; region?: string };
  private readonly api?: LambdaClient;
  private readonly problems: string[];

  constructor(
    private readonly settings: LambdaSettings,
    options: { fetch?: typeof fetch; pacer?: Pacer; sharedReads?: boolean } = {},
  ) {
    this.problems = [...settings.problems];
    this.defaults = { type: settings.defaultType, region: settings.defaultRegion };
    try {
      this.api = new LambdaClient({ baseUrl: settings.baseUrl, apiKey: settings.apiKey, fetch: options.fetch, pacer: options.pacer, sharedReads: options.sharedReads });
    } catch (err) {
      // A bad base URL is configuration: doctor reports it, every call refuses with it.
      this.problems.push(err instanceof Error ? err.message : "LAMBDA_BASE_URL is invalid");
    }
  }

  validate(spec: LeaseSpec): string[] {
    const problems: string[] = [];
    const key = spec.sshPublicKey.trim();
    if (key.length > MAX_PUBLIC_KEY_CHARS) problems.push(`sshPublicKey must be at most ${MAX_PUBLIC_KEY_CHARS} characters`);
    else if (!PUBLIC_KEY.test(key)) problems.push("sshPublicKey must be one OpenSSH public key line (ssh-ed25519, ssh-rsa or ecdsa)");
    const type = spec.type ?? this.settings.defaultType;
    if (type !== undefined && !TYPE_NAME.test(type)) problems.push(`type ${JSON.stringify(type.slice(0, 64))} is not a Lambda instance type name`);
    const region = spec.region ?? this.settings.defaultRegion;
    if (region !== undefined && !REGION_NAME.test(region)) problems.push(`region ${JSON.stringify(region.slice(0, 64))} is not a Lambda region name`);
    // Lambda's prices are fixed per type: a ceiling it cannot apply is refused, not ignored.
    if (spec.maxPricePerHour !== undefined) problems.push("Lambda prices are fixed per instance type: choose a type by price (crabbox catalog --provider lambda) instead of maxPricePerHour");
    return problems;
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
        available: item.regions_with_capacity_available.length > 0,
      }))
      .sort((a, b) => a.type.localeCompare(b.type));
  }

  /**
   * The type's list price (GET /instance-types): Lambda bills exactly that. Asked on every
   * create, so a listing up to a minute old is shared: fifty creates at once read it once.
   */
  async priceCentsPerHour(spec: LeaseSpec): Promise<number | undefined> {
    const type = spec.type ?? this.defaults.type;
    return type ? (await this.client().listInstanceTypes(PRICE_SHARE_MS, PRICE_STALE_IF_ERROR_MS))[type]?.instance_type.price_cents_per_hour : undefined;
  }

  handle(spec: LeaseSpec): string {
    return leaseHandle(spec.deploymentId, spec.leaseId);
  }

  async create(spec: LeaseSpec, attempt: { handle: string; number: number; firstAt: number }): Promise<ResourceRef> {
    const api = this.client();
    const { handle } = attempt;
    const launch = this.launchRequest(spec, handle);
    const key = await this.ensureKey(handle, spec.sshPublicKey);
    // No "join an earlier attempt" here: the lease machine calls create again only once every
    // earlier ambiguous attempt has settled with nothing under the handle (DESIGN.md).
    const ids = await api.launch(launch);
    const [id] = ids;
    // Lambda launches exactly what was asked (one instance); anything else is resolved by handle.
    if (ids.length !== 1 || !id) throw new ProviderError("ambiguous", `Lambda launch answered ${ids.length} instance ids, expected 1`);
    return { handle, id, data: { sshKeyId: key.id } };
  }

  async recover(_spec: LeaseSpec, handle: string): Promise<RecoverResult> {
    // A terminating or preempted instance is no machine to hand a lease; the release removes it.
    const matches = (await this.instancesWithHandle(handle)).filter((instance) => USABLE.has(instance.status));
    const [only] = matches;
    if (matches.length === 1 && only) return { kind: "found", ref: { handle, id: only.id } };
    return matches.length === 0 ? { kind: "absent" } : { kind: "ambiguous", count: matches.length };
  }

  async inspect(ref: ResourceRef, spec: LeaseSpec): Promise<ResourceStatus> {
    if (!ref.id) {
      const found = await this.recover(spec, ref.handle);
      if (found.kind === "absent") return { phase: "gone", detail: "no instance carries this lease's handle" };
      if (found.kind !== "found") return { phase: "unknown", detail: found.kind === "ambiguous" ? `${found.count} instances carry this lease's handle` : found.detail };
      return this.inspect(found.ref, spec);
    }
    const instance = await this.findInstance(ref.id);
    return instance ? instanceStatus(instance, this.settings.sshPort) : { phase: "gone", detail: "instance does not exist" };
  }

  /**
   * One teardown step: terminate what this lease launched, wait until Lambda reports it gone,
   * then delete the lease's SSH key object. Done only when a fresh listing shows nothing live
   * under the handle: a 404 on the lease's own id (perhaps transient) is never taken as "gone".
   */
  async release(ref: ResourceRef, action: ReleaseAction, _spec: LeaseSpec, options: { exact?: boolean } = {}): Promise<ReleaseStep> {
    if (action !== "destroy") throw new ProviderError("unsupported", `Lambda cannot ${action} an instance, only destroy it`);
    // A machine that is still billing gets the account's first permits. When a listing in this
    // release already showed the lease's own instance carrying its key and only the terminate was
    // rate limited, the retry terminates that id again without listing first (one request a try,
    // not two); everything else is decided, as always, from a fresh listing.
    const { verifiedLive, ...rest } = ref.data ?? {};
    const cleared = verifiedLive === undefined ? undefined : rest;
    if (ref.id && verifiedLive === ref.id && !options.exact) {
      const step = await this.terminateVerified(ref.id, ref.data!, rest);
      if (step) return step;
    }
    const step = await this.releaseFromListing(ref, options);
    return cleared && !step.data ? { ...step, data: cleared } : step;
  }

  private async releaseFromListing(ref: ResourceRef, options: { exact?: boolean }): Promise<ReleaseStep> {
    const live = await this.instancesWithHandle(ref.handle);
    if (ref.id && !live.some((instance) => instance.id === ref.id)) {
      // Not listed (yet): ask for it by id too, so a listing that lags a launch cannot hide it.
      const own = await this.findInstance(ref.id);
      if (own && own.status !== "terminated" && own.ssh_key_names.includes(ref.handle)) live.push(own);
    }
    // The key name is unique to this lease: every instance launched with it is this lease's,
    // however many a lost answer and a retry left behind. The sweep's reclaim removes only its
    // own id: a sibling under the same handle may be a live lease's.
    const targets = options.exact ? live.filter((instance) => instance.id === ref.id) : live;
    const steps = [];
    for (const instance of targets) {
      try {
        steps.push(await this.terminateStep(instance));
      } catch (err) {
        // The lease's own instance, just seen live under its key: remember the id so the retry
        // terminates it without a listing. Anything else fails the step as before.
        const own = instance.id === ref.id && !options.exact && err instanceof ProviderError && err.kind === "rate_limited";
        if (!own) throw err;
        return { done: false, detail: `terminate rate limited: ${err.message}`, data: { ...ref.data, verifiedLive: instance.id } };
      }
    }
    const pending = steps.find((step) => step !== undefined);
    if (pending) return pending;
    if (options.exact && live.some((instance) => instance.id !== ref.id)) return { done: true };
    await this.deleteKeys(ref.handle);
    return { done: true };
  }

  async inventory(cursor?: string): Promise<InventoryPage> {
    // GET /instances is not paged: the whole account is the first page, and there is no second.
    if (cursor !== undefined) return { items: [] };
    // A terminated instance bills nothing and cannot be terminated again: no candidate.
    const instances = (await this.client().listInstances()).filter((instance) => instance.status !== "terminated");
    return {
      items: instances.map((instance) => ({
        id: instance.id,
        status: instance.status,
        marker: decodeMarker(instance, this.settings.deploymentId),
      })),
    };
  }

  /** The account's SSH key objects named by this deployment's handles. */
  async sideObjects(): Promise<SideObject[]> {
    return (await this.client().listSshKeys()).flatMap((key) => {
      const marker = keyMarker(key.name, this.settings.deploymentId);
      return marker ? [{ kind: "ssh_key", id: key.id, handle: key.name, leaseId: marker.leaseId }] : [];
    });
  }

  async removeSideObject(object: SideObject): Promise<void> {
    await this.deleteKeys(object.handle);
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
    // A lease's `image` is an image id (ImageSpecificationID, a UUID) or a family name
    // (ImageSpecificationFamily), as LAMBDA_IMAGE_FAMILY is.
    const image = spec.image ?? this.settings.imageFamily;
    const ruleset = this.settings.firewallRulesetId;
    return {
      region_name: region,
      instance_type_name: type,
      ssh_key_names: [handle],
      name: handle,
      tags: markerTags(spec.deploymentId, spec.leaseId),
      ...(image ? { image: IMAGE_ID.test(image) ? { id: image } : { family: image } } : {}),
      ...(ruleset ? { firewall_rulesets: [{ id: ruleset }] } : {}),
      ...(spec.bootScript ? { user_data: spec.bootScript } : {}),
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

  /**
   * Deletes the lease's key objects. A not-found answer, or the 400 an unknown id may get
   * (contracts/README.md), counts only once a fresh listing confirms the key is gone: any
   * other 400 leaves the key in place and the release retries.
   */
  private async deleteKeys(handle: string): Promise<void> {
    const named = async () => (await this.client().listSshKeys()).filter((key) => key.name === handle);
    let refused: ProviderError | undefined;
    for (const key of await named()) {
      try {
        await this.client().deleteSshKey(key.id);
      } catch (err) {
        if (!(err instanceof ProviderError) || (err.kind !== "not_found" && err.kind !== "invalid")) throw err;
        refused = err;
      }
    }
    if (refused && (await named()).length > 0) {
      throw new ProviderError("definite", `the lease's SSH key object is still there after delete: ${refused.message}`);
    }
  }

  /** Terminates a live instance; undefined when nothing is left to wait for. */
  private async terminateStep(instance: Instance): Promise<ReleaseStep | undefined> {
    if (instance.status === "terminated") return undefined;
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

  /**
   * Terminates an id a listing in this release verified. Rate limited again: the step keeps the
   * id. Sent: the next step lists as usual. Any other refusal (gone, preempted): undefined, and
   * the listing path decides.
   */
  private async terminateVerified(id: string, data: NonNullable<ResourceRef["data"]>, cleared: NonNullable<ResourceRef["data"]>): Promise<ReleaseStep | undefined> {
    try {
      await this.client().terminate([id]);
      return { done: false, detail: "terminate requested", data: cleared };
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      if (err.kind === "rate_limited") return { done: false, detail: `terminate rate limited: ${err.message}`, data };
      if (err.kind === "ambiguous") throw err;
      return undefined;
    }
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
