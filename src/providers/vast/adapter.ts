// The Vast.ai ProviderAdapter: what create/recover/inspect/release/inventory mean on Vast, on
// top of VastClient. Offers are searched, then rented with the lease's label as the marker; the
// lease's own key is attached to the instance once it runs (Vast's create takes no key).

import { OPENSSH_PUBLIC_KEY } from "../../contract/lease";
import {
  ProviderError,
  type CatalogEntry,
  type DoctorCheck,
  type Endpoint,
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
import { VastClient } from "./client";
import { runDoctor } from "./doctor";
import { decodeMarker, formatType, leaseHandle, parseType } from "./marker";
import { SSH_USER, type VastSettings } from "./settings";
import type { Instance, Offer, SearchRequest } from "./wire";

export const VAST_CAPABILITIES: ProviderCapabilities = {
  releaseActions: ["destroy", "stop"],
  defaultReleaseAction: "destroy",
  // Offers are searched with a direct port; an instance that only has the proxy route says so
  // per status (route "gateway"), and then readiness rests on `running` alone.
  route: "direct",
  readiness: "ssh_banner",
  // A lost PUT /asks/ answer surfaces in the label listing within seconds; two minutes is ample.
  createSettleMs: 2 * 60_000,
  idempotentCreate: false,
  ownership: "marker",
  // "Stopped instances continue incurring storage charges" (docs: manage-instances).
  stoppedBills: true,
  // `onstart`: shell commands run after Vast's entrypoint, "limited to 4048 characters" (docs: Key Quirks).
  bootHook: { field: "onstart", maxBytes: 4048, cloudInit: false },
  resume: true,
  requires: ["type"],
  keyHandling: "instance_key",
};

/** Statuses that will never become usable (docs: hello-world "Poll trap"). */
const NEVER_USABLE = new Set(["exited", "unknown", "offline"]);
const COUNTRY = /^[A-Z]{2}$/;
const SEARCH_LIMIT = 20;
const CATALOG_LIMIT = 200;
/**
 * Offers this isolate saw gone (404/410 no_such_ask) are skipped for a while, so leases that
 * share one cached search do not all try the same rented offer first. Plain data, per isolate.
 */
const GONE_OFFER_MS = 60_000;
const goneOffers = new Map<number, number>();

/** Vast quotes storage per GB-month; a month is taken as 730 hours. */
const HOURS_PER_MONTH = 730;

export class VastAdapter implements ProviderAdapter {
  readonly name = "vast";
  readonly capabilities: ProviderCapabilities;
  readonly defaults: { type?: string; region?: string };
  private readonly api?: VastClient;
  private readonly problems: string[];

  constructor(
    private readonly settings: VastSettings,
    options: { fetch?: typeof fetch; pacer?: Pacer; sharedReads?: boolean } = {},
  ) {
    this.problems = [...settings.problems];
    this.defaults = { type: settings.defaultType, region: settings.defaultRegion };
    this.capabilities = { ...VAST_CAPABILITIES, resumeTimeoutMs: settings.resumeTimeoutMs };
    try {
      this.api = new VastClient({ baseUrl: settings.baseUrl, apiKey: settings.apiKey, ...options });
    } catch (err) {
      this.problems.push(err instanceof Error ? err.message : "VAST_BASE_URL is invalid");
    }
  }

  validate(spec: LeaseSpec): string[] {
    const problems: string[] = [];
    const key = spec.sshPublicKey.trim();
    if (!OPENSSH_PUBLIC_KEY.test(key) || key.includes("PRIVATE KEY")) problems.push("sshPublicKey must be one OpenSSH public key line");
    const type = spec.type ?? this.settings.defaultType;
    if (type !== undefined && !parseType(type)) problems.push(`type must look like 1x_RTX_4090 (GPU count, x_, Vast's GPU name with underscores); see crabbox catalog --provider vast`);
    const region = spec.region ?? this.settings.defaultRegion;
    if (region !== undefined && !COUNTRY.test(region)) problems.push("region must be a two-letter country code (an offer's geolocation), e.g. US");
    if (spec.maxPricePerHour !== undefined && spec.maxPricePerHour > this.settings.maxPricePerHour) {
      problems.push(`maxPricePerHour may be at most ${this.settings.maxPricePerHour} $/h on this coordinator`);
    }
    return problems;
  }

  async doctor(): Promise<DoctorCheck[]> {
    if (!this.api || this.problems.length) {
      return [{ name: "config", status: "fail", class: "config", detail: this.problems.join("; "), hint: "fix the VAST_* vars and secrets" }];
    }
    return runDoctor(this.api, this.settings, (type) => this.searchBody({ type, region: this.settings.defaultRegion }));
  }

  async catalog(): Promise<CatalogEntry[]> {
    const offers = await this.client().searchOffers({ ...this.baseFilters(), order: [["dph_total", "asc"]], type: "on-demand", limit: CATALOG_LIMIT, allocated_storage: this.settings.diskGb });
    const byType = new Map<string, Offer[]>();
    for (const offer of offers) {
      const type = formatType(offer.num_gpus, offer.gpu_name);
      byType.set(type, [...(byType.get(type) ?? []), offer]);
    }
    return [...byType.entries()]
      .map(([type, group]) => {
        const prices = group.map((o) => o.dph_total).sort((a, b) => a - b);
        const median = prices[Math.floor((prices.length - 1) / 2)]!;
        return {
          type,
          description: `${group.length} offers, median $${median.toFixed(3)}/h`,
          priceCentsPerHour: Math.round(prices[0]! * 100),
          regions: [...new Set(group.map((o) => country(o.geolocation)).filter((c): c is string => c !== undefined))].sort(),
          gpus: group[0]!.num_gpus,
        };
      })
      .sort((a, b) => a.type.localeCompare(b.type));
  }

  /** A market: the most a search may pay (the lease's ceiling within the operator's); create learns the real price. */
  async priceCentsPerHour(spec: LeaseSpec): Promise<number | undefined> {
    return Math.round(Math.min(spec.maxPricePerHour ?? Infinity, this.settings.maxPricePerHour) * 100);
  }

  handle(spec: LeaseSpec): string {
    return leaseHandle(spec.deploymentId, spec.leaseId);
  }

  /**
   * Search, then rent the cheapest offer that is still there (bounded tries). `cancel_unavail`
   * makes a create that cannot start fail instead of leaving a stopped instance billing storage.
   */
  async create(spec: LeaseSpec, attempt: { handle: string; number: number; firstAt: number }): Promise<ResourceRef> {
    const api = this.client();
    const { handle } = attempt;
    // No "join an earlier attempt" here: the lease machine calls create again only once every
    // earlier ambiguous attempt has settled with nothing under the label (DESIGN.md).
    const now = Date.now();
    const offers = (await api.searchOffers(this.searchBody(spec))).filter((offer) => this.acceptable(offer, spec, now));
    const tried: string[] = [];
    for (const offer of offers.slice(0, this.settings.offersTried)) {
      try {
        const { id } = await api.createInstance(offer.id, this.createBody(spec, handle));
        // storage_cost is $/GB/month: a stopped instance keeps paying it for its disk.
        const storage = offer.storage_cost ? Math.round((offer.storage_cost * this.settings.diskGb * 100) / HOURS_PER_MONTH) : undefined;
        return { handle, id, data: { offerId: offer.id, dphTotal: offer.dph_total }, price: { centsPerHour: Math.round(offer.dph_total * 100), storageCentsPerHour: storage } };
      } catch (err) {
        if (!(err instanceof ProviderError) || err.kind !== "capacity") throw err;
        goneOffers.set(offer.id, now + GONE_OFFER_MS);
        tried.push(String(offer.id));
      }
    }
    const why = tried.length ? `offers ${tried.join(", ")} were taken before we could rent them` : "no offer matches (type, region, price, reliability, direct SSH port, and an end date past the lease's TTL)";
    throw new ProviderError("capacity", `Vast: ${why}`);
  }

  async recover(_spec: LeaseSpec, handle: string): Promise<RecoverResult> {
    const matches = await this.labelled(handle);
    const [only] = matches;
    if (matches.length === 1 && only) return { kind: "found", ref: { handle, id: String(only.id) } };
    return matches.length === 0 ? { kind: "absent" } : { kind: "ambiguous", count: matches.length };
  }

  async inspect(ref: ResourceRef, spec: LeaseSpec): Promise<ResourceStatus> {
    if (!ref.id) {
      const found = await this.recover(spec, ref.handle);
      if (found.kind === "absent") return { phase: "gone", detail: "no instance carries this lease's label" };
      if (found.kind !== "found") return { phase: "unknown", detail: found.kind === "ambiguous" ? `${found.count} instances carry this lease's label` : found.detail };
      return this.inspect(found.ref, spec);
    }
    const instance = await this.client().getInstance(ref.id);
    if (!instance) return { phase: "gone", detail: 'Vast answers {"instances": null}' };
    const status = instanceStatus(instance);
    if (status.phase !== "running") return status.phase === "stopped" ? { ...status, data: { ...ref.data, keyId: null } } : status;
    // The lease's key reaches the machine only by attaching it to this instance, once it runs.
    const keyId = await this.ensureKey(ref, spec.sshPublicKey);
    return { ...status, data: { ...ref.data, keyId } };
  }

  /**
   * destroy: DELETE every instance under the lease's label (only its own id for the sweep),
   * done when each answers `{"instances": null}`. stop: detach the lease's key, then stop;
   * done when Vast reports it stopped.
   */
  async release(ref: ResourceRef, action: ReleaseAction, _spec: LeaseSpec, options: { exact?: boolean } = {}): Promise<ReleaseStep> {
    const api = this.client();
    if (action === "stop") return this.stopStep(ref);
    const ids = new Set<string>(ref.id ? [ref.id] : []);
    if (!options.exact) for (const instance of await this.labelled(ref.handle)) ids.add(String(instance.id));
    // The recorded id is ours by the lease's own record; the others carry its unique label
    // (an earlier attempt whose answer was lost). Gone means `{"instances": null}` for each.
    let pending = 0;
    for (const id of ids) {
      if (!(await api.getInstance(id))) continue;
      await this.destroyIgnoringGone(id);
      pending++;
    }
    return pending ? { done: false, detail: `destroying ${pending} instance(s)` } : { done: true };
  }

  /** Restart a parked instance; it may wait for its GPU (the lease's resume deadline bounds that). */
  async resume(ref: ResourceRef): Promise<void> {
    if (!ref.id) throw new ProviderError("definite", "no instance recorded to resume");
    await this.client().setState(ref.id, "running");
  }

  /** None: Vast attaches the lease's key to the instance itself (POST /instances/{id}/ssh/): it goes with the instance. */
  async sideObjects(): Promise<SideObject[]> {
    return [];
  }

  /** Never asked: there are no side objects to strand. */
  async removeSideObject(_object: SideObject): Promise<void> {}

  async inventory(cursor?: string): Promise<InventoryPage> {
    const page = await this.client().listInstances({ afterToken: cursor });
    return {
      items: page.instances.map((instance) => ({
        id: String(instance.id),
        status: instance.actual_status ?? "provisioning",
        marker: decodeMarker(instance.label, this.settings.deploymentId),
      })),
      next: page.next,
    };
  }

  private client(): VastClient {
    if (!this.api || this.problems.length) throw new ProviderError("invalid", `Vast is misconfigured: ${this.problems.join("; ")}`);
    return this.api;
  }

  private baseFilters(): Record<string, unknown> {
    // The official client's defaults (cli-facts.md), plus a direct SSH port and a reliability floor.
    return {
      verified: { eq: true },
      external: { eq: false },
      rentable: { eq: true },
      rented: { eq: false },
      direct_port_count: { gte: 1 },
      reliability: { gte: this.settings.minReliability },
    };
  }

  private searchBody(spec: Pick<LeaseSpec, "type" | "region" | "maxPricePerHour" | "ttlMs">): SearchRequest {
    const type = parseType(spec.type ?? this.settings.defaultType ?? "");
    if (!type) throw new ProviderError("invalid", "no Vast type: request one like 1x_RTX_4090 or set VAST_DEFAULT_TYPE");
    const region = spec.region ?? this.settings.defaultRegion;
    return {
      ...this.baseFilters(),
      gpu_name: { eq: type.gpuName },
      num_gpus: { eq: type.count },
      dph_total: { lte: Math.min(spec.maxPricePerHour ?? Infinity, this.settings.maxPricePerHour) },
      // The API works in seconds (cli-facts.md): the offer must stay rentable for the whole TTL.
      ...(spec.ttlMs ? { duration: { gte: Math.ceil(spec.ttlMs / 1000) } } : {}),
      ...(region ? { geolocation: { in: [region] } } : {}),
      order: [["dph_total", "asc"]],
      type: "on-demand",
      limit: SEARCH_LIMIT,
      allocated_storage: this.settings.diskGb,
    };
  }

  /** The search's filters again, on our side: a cached or loose answer never rents the wrong thing. */
  private acceptable(offer: Offer, spec: LeaseSpec, now: number): boolean {
    const gone = goneOffers.get(offer.id);
    if (gone !== undefined && gone > now) return false;
    const max = Math.min(spec.maxPricePerHour ?? Infinity, this.settings.maxPricePerHour);
    if (offer.dph_total > max) return false;
    if ((offer.direct_port_count ?? 0) < 1) return false;
    // An offer's contract end bounds the machine's life: the lease's TTL must fit before it.
    if (offer.end_date && spec.ttlMs && offer.end_date * 1000 < now + spec.ttlMs) return false;
    return true;
  }

  private createBody(spec: LeaseSpec, handle: string): Record<string, unknown> {
    // Keys the official client sends (cli-facts.md). `env`, `price` and `onstart` are left out:
    // a lease has nothing to say in them, none is required, and the yaml (env: a Docker-flag
    // string) and the client (env: an object) disagree on env's type.
    return {
      client_id: "me",
      image: spec.image ?? this.settings.image,
      disk: this.settings.diskGb,
      label: handle,
      runtype: "ssh_direct",
      cancel_unavail: true,
      ...(spec.bootScript ? { onstart: spec.bootScript } : {}),
    };
  }

  /** Every instance (all pages) whose label is exactly `handle`. */
  private async labelled(handle: string): Promise<Instance[]> {
    const found: Instance[] = [];
    let after: string | undefined;
    do {
      const page = await this.client().listInstances({ label: handle, afterToken: after });
      found.push(...page.instances.filter((instance) => instance.label === handle));
      after = page.next;
    } while (after);
    return found;
  }

  /** The id of the lease's key on the instance, attaching it first when it is not there. */
  private async ensureKey(ref: ResourceRef, publicKey: string): Promise<number> {
    const api = this.client();
    const known = typeof ref.data?.keyId === "number" ? ref.data.keyId : undefined;
    if (known !== undefined) return known;
    const mine = (keys: { id: number; public_key: string }[]) => keys.find((k) => keyMaterial(k.public_key) === keyMaterial(publicKey));
    const present = mine(await api.listInstanceKeys(ref.id!));
    if (present) return present.id;
    await api.attachKey(ref.id!, publicKey);
    const attached = mine(await api.listInstanceKeys(ref.id!));
    if (!attached) throw new ProviderError("ambiguous", "Vast: the lease's key is not listed on the instance after attaching it");
    return attached.id;
  }

  private async stopStep(ref: ResourceRef): Promise<ReleaseStep> {
    const api = this.client();
    if (!ref.id) throw new ProviderError("definite", "no instance recorded to stop");
    const instance = await api.getInstance(ref.id);
    // Nothing left to stop: the parked lease will find it gone and end.
    if (!instance) return { done: true, data: { ...ref.data, keyId: null } };
    // Detach the lease's key first: a parked machine keeps no way in for anyone.
    const keys = await api.listInstanceKeys(ref.id);
    const keyId = typeof ref.data?.keyId === "number" ? ref.data.keyId : undefined;
    for (const key of keys.filter((k) => k.id === keyId)) await api.detachKey(ref.id, key.id);
    // Stopped is not enough: one that still *wants* to run (a restart waiting for its GPU) would
    // start, and bill, the moment the GPU frees up. Done only when it is stopped and meant to be.
    if (instance.intended_status !== "stopped") {
      await api.setState(ref.id, "stopped");
      return { done: false, detail: `stopping (${instance.actual_status ?? "provisioning"})` };
    }
    if (instance.actual_status === "stopped") return { done: true, data: { ...ref.data, keyId: null } };
    return { done: false, detail: `stopping (${instance.actual_status ?? "provisioning"})` };
  }

  private async destroyIgnoringGone(id: string): Promise<void> {
    try {
      await this.client().destroy(id);
    } catch (err) {
      if (!(err instanceof ProviderError) || err.kind !== "not_found") throw err;
    }
  }
}

/**
 * Total map of `actual_status` (docs: show-instance). Readiness is never judged by
 * `intended_status`; it only tells a preempted interruptible instance (stopped while it
 * wants to run) from one we stopped.
 */
export function instanceStatus(instance: Instance): ResourceStatus {
  const actual = instance.actual_status ?? null;
  switch (actual) {
    case null:
    case "loading":
    case "rebooting":
      return { phase: "pending", detail: actual ?? "provisioning" };
    case "running": {
      const endpoint = endpointOf(instance);
      if (!endpoint) return { phase: "pending", detail: "running, no SSH route yet" };
      return { phase: "running", endpoint: endpoint.endpoint, route: endpoint.route, ready: true, detail: "running" };
    }
    case "stopped":
      if (instance.is_bid && instance.intended_status === "running") return { phase: "failed", detail: "outbid: an interruptible instance was stopped" };
      return { phase: "stopped", detail: instance.status_msg ? `stopped: ${instance.status_msg.slice(0, 80)}` : "stopped" };
    default:
      if (NEVER_USABLE.has(actual)) return { phase: "failed", detail: actual };
      return { phase: "unknown", detail: `unrecognised Vast status ${JSON.stringify(actual.slice(0, 40))}` };
  }
}

/** Direct first (public IP + the host port mapped to 22/tcp), else Vast's SSH proxy. */
function endpointOf(instance: Instance): { endpoint: Endpoint; route: "direct" | "gateway" } | undefined {
  const direct = instance.ports?.["22/tcp"]?.[0]?.HostPort;
  if (instance.public_ipaddr && direct && Number(direct) > 0) {
    return { endpoint: { kind: "ssh", host: instance.public_ipaddr, port: Number(direct), user: SSH_USER }, route: "direct" };
  }
  if (instance.ssh_host && instance.ssh_port) {
    // The official client adds 1 on jupyter runtypes (cli-facts.md `_ssh_url`).
    const port = instance.ssh_port + (instance.image_runtype?.includes("jupyter") ? 1 : 0);
    return { endpoint: { kind: "ssh", host: instance.ssh_host, port, user: SSH_USER }, route: "gateway" };
  }
  return undefined;
}

function country(geolocation: string | null | undefined): string | undefined {
  const code = geolocation?.trim().slice(-2);
  return code && COUNTRY.test(code) ? code : undefined;
}

function keyMaterial(publicKey: string): string {
  return publicKey.trim().split(/\s+/).slice(0, 2).join(" ");
}
