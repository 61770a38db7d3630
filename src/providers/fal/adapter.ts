// The fal Compute ProviderAdapter: an idempotent create (the lease's handle is the
// Idempotency-Key, and replaying it is the recovery), delete as the only release, and no marker
// at all on an instance: ownership lives in the coordinator's records (DESIGN.md).

import { OPENSSH_PUBLIC_KEY } from "../../contract/lease";
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
import { FalClient } from "./client";
import { runDoctor } from "./doctor";
import { leaseHandle } from "./marker";
import { SSH_USER, type FalSettings } from "./settings";
import { INSTANCE_TYPES, type CreateRequest, type Instance } from "./wire";

export const FAL_CAPABILITIES: ProviderCapabilities = {
  releaseActions: ["destroy"],
  defaultReleaseAction: "destroy",
  route: "direct",
  readiness: "ssh_banner",
  // fal caches a create's answer for 10 minutes per Idempotency-Key: replays stay within 9.
  createSettleMs: 9 * 60_000,
  idempotentCreate: true,
  ownership: "ledger",
  stoppedBills: false,
  resume: false,
  requires: ["type"],
  keyHandling: "create_param",
};

const PAGE_SIZE = 100;
const PENDING = new Set(["init", "pending", "provisioning"]);

/** Pages of the account listing read to confirm a gone instance. */
const MAX_LIST_PAGES = 50;

export class FalAdapter implements ProviderAdapter {
  readonly name = "fal";
  readonly capabilities: ProviderCapabilities;
  readonly defaults: { type?: string; region?: string };
  private readonly api?: FalClient;
  private readonly problems: string[];

  constructor(
    private readonly settings: FalSettings,
    options: { fetch?: typeof fetch; pacer?: Pacer; sharedReads?: boolean } = {},
  ) {
    this.problems = [...settings.problems];
    this.defaults = { type: settings.defaultType };
    this.capabilities = { ...FAL_CAPABILITIES, dedicatedAccount: settings.dedicatedAccount };
    try {
      this.api = new FalClient({ baseUrl: settings.baseUrl, apiKey: settings.apiKey, ...options });
    } catch (err) {
      this.problems.push(err instanceof Error ? err.message : "FAL_BASE_URL is invalid");
    }
  }

  validate(spec: LeaseSpec): string[] {
    const problems: string[] = [];
    if (!OPENSSH_PUBLIC_KEY.test(spec.sshPublicKey.trim())) problems.push("sshPublicKey must be one OpenSSH public key line");
    const type = spec.type ?? this.settings.defaultType;
    if (!(INSTANCE_TYPES as readonly string[]).includes(type)) problems.push(`type must be one of ${INSTANCE_TYPES.join(", ")}`);
    // fal picks the region itself; a lease cannot ask for one.
    if (spec.region !== undefined) problems.push("fal places instances itself: a lease cannot name a region");
    if (spec.image !== undefined) problems.push("fal instances take no image");
    if (spec.maxPricePerHour !== undefined) problems.push("fal prices are fixed per instance type: maxPricePerHour does not apply");
    return problems;
  }

  async doctor(): Promise<DoctorCheck[]> {
    if (!this.api || this.problems.length) {
      return [{ name: "config", status: "fail", class: "config", detail: this.problems.join("; "), hint: "fix the FAL_* vars and secrets" }];
    }
    return runDoctor(this.api, this.settings);
  }

  async catalog(): Promise<CatalogEntry[]> {
    // The two documented types; fal's docs give no price, so only an operator-configured one is shown.
    return INSTANCE_TYPES.map((type) => ({
      type,
      description: type === "gpu_8x_h100_sxm5" ? "8x H100 SXM5" : "1x H100 SXM5",
      priceCentsPerHour: this.settings.priceCentsPerHour?.[type],
      regions: [],
      gpus: type === "gpu_8x_h100_sxm5" ? 8 : 1,
    }));
  }

  async priceCentsPerHour(spec: LeaseSpec): Promise<number | undefined> {
    return this.settings.priceCentsPerHour?.[spec.type ?? this.settings.defaultType];
  }

  handle(spec: LeaseSpec): string {
    return leaseHandle(spec.deploymentId, spec.leaseId);
  }

  /**
   * The create, keyed by the handle. Every call sends the byte-identical body: within fal's
   * 10-minute cache a replay answers with the first create's instance instead of a second one.
   */
  async create(spec: LeaseSpec, attempt: { handle: string; number: number; firstAt: number }): Promise<ResourceRef> {
    const instance = await this.client().create(this.createBody(spec), attempt.handle);
    return { handle: attempt.handle, id: instance.id };
  }

  /** fal cannot be asked by handle: nothing carries it. The lease fails closed (DESIGN.md). */
  async recover(): Promise<RecoverResult> {
    return { kind: "unresolvable", detail: "fal instances carry no name, label or tag, and the create's idempotency window has passed without an answer: the instance, if any, shows up as unattributed in the sweep report" };
  }

  async inspect(ref: ResourceRef): Promise<ResourceStatus> {
    if (!ref.id) return { phase: "unknown", detail: "no instance id was ever answered" };
    const instance = await this.client().get(ref.id);
    if (!instance) return { phase: "gone", detail: "fal answers 404 for this instance" };
    return instanceStatus(instance, this.settings.sshPort);
  }

  /** DELETE, then a look: done when fal answers 404 for the id. */
  async release(ref: ResourceRef, action: ReleaseAction): Promise<ReleaseStep> {
    if (action !== "destroy") throw new ProviderError("unsupported", "fal instances cannot be stopped, only deleted");
    if (!ref.id) return { done: true }; // no id was ever answered: nothing we may touch (unresolved creates are recorded)
    const api = this.client();
    if (!(await api.get(ref.id))) {
      // One 404 may be transient: gone only when the account's listing agrees.
      return (await this.listed(ref.id)) ? { done: false, detail: "a 404 the listing contradicts: looking again" } : { done: true };
    }
    await api.delete(ref.id);
    return { done: false, detail: "delete requested" };
  }

  /** Whether the account's listing (every page) still shows the instance. */
  private async listed(id: string): Promise<boolean> {
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const answer = await this.client().list(cursor, PAGE_SIZE);
      if (answer.instances.some((i) => i.id === id)) return true;
      cursor = answer.next;
      if (!cursor) return false;
    }
    // A listing that never ends proves nothing either way.
    throw new ProviderError("ambiguous", "fal's listing did not end: cannot confirm the instance is gone");
  }

  /** None: fal takes the lease's key in the create body (`ssh_key`): it is part of the instance. */
  async sideObjects(): Promise<SideObject[]> {
    return [];
  }

  /** Never asked: there are no side objects to strand. */
  async removeSideObject(_object: SideObject): Promise<void> {}

  async inventory(cursor?: string): Promise<InventoryPage> {
    const page = await this.client().list(cursor, PAGE_SIZE);
    return {
      items: page.instances.map((instance) => ({
        id: instance.id,
        status: instance.status,
        detail: [instance.instance_type, instance.region, instance.creator_user_nickname && `by ${instance.creator_user_nickname}`].filter(Boolean).join(", ").slice(0, 120),
      })),
      next: page.next,
    };
  }

  private client(): FalClient {
    if (!this.api || this.problems.length) throw new ProviderError("invalid", `fal is misconfigured: ${this.problems.join("; ")}`);
    return this.api;
  }

  private createBody(spec: LeaseSpec): CreateRequest {
    const type = (spec.type ?? this.settings.defaultType) as CreateRequest["instance_type"];
    // `sector` is valid only with the 8x type: never sent for 1x.
    const sector = type === "gpu_8x_h100_sxm5" ? this.settings.sector : undefined;
    return { instance_type: type, ssh_key: spec.sshPublicKey.trim(), ...(sector ? { sector } : {}) };
  }
}

/** Total map of fal's status (contracts/fal/README.md); unknown words fail closed. */
export function instanceStatus(instance: Instance, sshPort: number): ResourceStatus {
  if (instance.status === "ready") {
    if (!instance.ip) return { phase: "pending", detail: "ready, waiting for an IP address" };
    return { phase: "running", endpoint: { kind: "ssh", host: instance.ip, port: sshPort, user: SSH_USER }, ready: false, detail: "ready" };
  }
  if (PENDING.has(instance.status)) return { phase: "pending", detail: instance.status };
  // fal has no resume: a stopped instance will not come back.
  if (instance.status === "stopped") return { phase: "failed", detail: "stopped" };
  return { phase: "unknown", detail: `fal status ${JSON.stringify(instance.status.slice(0, 40))}` };
}
