// The provider adapter interface: the one contract every cloud (Lambda, Vast, fal, Coder,
// Sealos, and the tests' fake cloud) implements. The lease machine only ever talks to this.
//
// Shape of the contract, fitted to the five providers' quirks (../shared/contracts/):
// - create/recover/release are idempotent by a deterministic per-lease `handle` (Lambda SSH key
//   name, Vast label, fal Idempotency-Key, Coder workspace name, Sealos resource name), so a
//   crash or a lost response is always recoverable by looking the handle up again.
// - release is a step function: call it until it answers "done". Multi-step teardowns
//   (Lambda terminate → wait → delete key; Sealos delete → finalizer) live inside the adapter.
// - readiness is either an SSH banner on a direct host:port (probed by the lease), or, for
//   providers without a reachable host (Coder), the adapter's own signal.
// Every method throws ProviderError (below) for anything but success.

import type { Pacer, RateLimits } from "../pacing/gcra";

export type ReleaseAction = "destroy" | "stop";

/** Where the client connects. `proxy` endpoints are reached through a client-side command. */
export type Endpoint =
  | { kind: "ssh"; host: string; port: number; user: string }
  | {
      kind: "proxy";
      user: string;
      /** SSH host alias the proxy command understands, e.g. `coder.<workspace>`. */
      host: string;
      /** argv of the ProxyCommand, e.g. ["coder", "ssh", "--stdio", "owner/ws"]. */
      proxyCommand: string[];
      /** Web URL of the deployment (Coder) for the client's own CLI login. */
      url?: string;
    };

export interface ProviderCapabilities {
  /** Release actions this provider can perform; a request for another is refused with 400. */
  releaseActions: readonly ReleaseAction[];
  defaultReleaseAction: ReleaseAction;
  /**
   * What answers at the endpoint (DESIGN.md "Readiness through gateways"): `direct`, the
   * machine's own sshd; `gateway`, a proxy that answers a banner before the machine behind it
   * exists; `proxy`, nothing the coordinator can reach (a client-side proxy command).
   */
  route: "direct" | "gateway" | "proxy";
  /**
   * `ssh_banner`: the lease probes host:port for `SSH-2.0-` (only meaningful on a direct
   * route). `adapter`: the provider's own running signal, inspect()'s `ready`, decides.
   */
  readiness: "ssh_banner" | "adapter";
  /** How long after it was sent an ambiguous create can still surface (DESIGN.md "Ambiguity settles"). */
  createSettleMs: number;
  /** Replaying create with the same handle is itself the recovery (fal's Idempotency-Key). */
  idempotentCreate: boolean;
  /**
   * How the sweep tells our resources from others: `marker` (a label, tag or name the adapter
   * decodes) or `ledger` (no marker exists, fal: only ids the lease index recorded are ours;
   * DESIGN.md "Ownership without markers").
   */
  ownership: "marker" | "ledger";
  /**
   * `ledger` only: the operator declared the account this deployment's alone, so resources no
   * lease recorded may be reclaimed too (after two sightings a grace apart).
   */
  dedicatedAccount?: boolean;
  /** A stopped (parked) machine still bills, e.g. for its disk: said wherever `stop` is chosen. */
  stoppedBills: boolean;
  /**
   * `proxy` routes only: the command the client's ProxyCommand runs (it must be on the client's
   * PATH) and how its user logs in; `crabbox doctor` checks both on the client.
   */
  proxyClient?: { command: string; login: string };
  /** Machines come from a template that declares parameters (Coder): requests may set them. */
  templateParameters?: boolean;
  /**
   * Where a boot script goes (Lambda `user_data`, Vast `onstart`) and how large it may be;
   * absent: the provider has no boot hook, and user data or tailscale are refused at create.
   */
  bootHook?: { field: string; maxBytes: number; cloudInit: boolean };
  /**
   * How long a resume may wait for its machine (Vast waits for its GPU, possibly forever); past
   * it the lease stops the machine again and stays parked, with the failure. Absent: no bound
   * but the provisioning timeout.
   */
  resumeTimeoutMs?: number;
  /** A parked (stopped) resource can be started again. */
  resume: boolean;
  /** Request fields this provider cannot do without, unless its configuration supplies a default. */
  requires: readonly ("type" | "region" | "image")[];
  /** How the lease's public key reaches the machine; informational, shown by /v1/providers. */
  keyHandling: "key_object" | "instance_key" | "create_param" | "secret" | "template";
}

/** Everything an adapter may know about the lease it acts for. Never holds credentials. */
export interface LeaseSpec {
  leaseId: string;
  deploymentId: string;
  owner: string;
  /**
   * The owner's username at this provider, when an admin set one on their token (Coder);
   * absent: providers with their own users take the owner name.
   */
  providerUser?: string;
  /** Template parameters (Coder's rich parameters), when the request named any. */
  parameters?: Record<string, string>;
  /** Provider instance type (Lambda `instance_type_name`, fal `instance_type`, ...). */
  type?: string;
  region?: string;
  image?: string;
  /** OpenSSH public key line the client will log in with. */
  sshPublicKey: string;
  /** The lease's TTL: a provider whose offers end (Vast's end_date) must outlast it. */
  ttlMs?: number;
  /** Most the lease may cost per hour, in dollars (marketplaces: Vast). */
  maxPricePerHour?: number;
  /** create only: the composed boot script for the provider's boot hook. Never stored or logged. */
  bootScript?: string;
}

/**
 * The lease's own record of a provider resource. `id` is absent until the provider told us
 * (or recovery found) the resource's id; a release with no id means "remove whatever this
 * handle created", which the adapter resolves by looking the handle up.
 */
export interface ResourceRef {
  handle: string;
  id?: string;
  /**
   * What the machine costs, when create learned it exactly (Vast's chosen offer); otherwise the
   * lease keeps the price it reserved at admission (priceCentsPerHour).
   */
  price?: Price;
  /** Adapter-private extras it needs later (key ids, resourceVersion, ...). JSON only. */
  data?: Record<string, string | number | boolean | null>;
}

/**
 * A total map of what a provider says about a resource. Unknown statuses stay `unknown`.
 * `gone` must rest on the contract's own "does not exist" answer for that route, never on any
 * 404; the lease still takes a second look before it gives a live machine up.
 * `data`, when present, replaces `ResourceRef.data` (refreshed fencing tokens such as a
 * Kubernetes resourceVersion).
 */
export type ResourceStatus = (
  | { phase: "pending"; detail: string }
  | {
      phase: "running";
      endpoint: Endpoint;
      ready: boolean;
      detail: string;
      /** This endpoint's route when it differs from the capability's (Vast's proxy fallback). */
      route?: ProviderCapabilities["route"];
    }
  | { phase: "stopping"; detail: string }
  | { phase: "stopped"; detail: string }
  | { phase: "terminating"; detail: string }
  | { phase: "gone"; detail: string }
  /** The provider says the machine will not become usable (preempted, exited, failed build). */
  | { phase: "failed"; detail: string }
  | { phase: "unknown"; detail: string }
) & { data?: ResourceRef["data"] };

export type RecoverResult =
  | { kind: "found"; ref: ResourceRef }
  | { kind: "absent" }
  /**
   * The provider cannot be asked by handle (fal: no name, label or tag): after its idempotent
   * create's window, a create whose answer never came cannot be resolved. The lease fails
   * closed and the unresolved create is recorded for the operator, never silently forgotten.
   */
  | { kind: "unresolvable"; detail: string }
  /** More than one resource carries the handle: never guess, fail closed. */
  | { kind: "ambiguous"; count: number };

/**
 * `data`, when present, replaces `ResourceRef.data` (a key detached before a stop, an id a
 * listing verified), also on a step that is not done yet.
 */
export type ReleaseStep = { done: true; data?: ResourceRef["data"] } | { done: false; detail: string; data?: ResourceRef["data"] };

/** One resource from a provider listing, with the ownership marker the adapter decoded. */
export interface InventoryItem {
  id: string;
  /** Present only when the resource carries a crabbox marker. */
  marker?: { deploymentId: string; leaseId: string; handle: string };
  /** Provider's own status word, for the sweep's report. */
  status: string;
  /** What an admin needs to recognise an unattributed resource (type, creator), bounded. */
  detail?: string;
  /** Creation time in ms when the provider reports one (Lambda does not). */
  createdAt?: number;
}

/**
 * An object this deployment made beside a lease's machine that outlives nothing on its own but
 * would be left behind if the lease were lost: Lambda's account SSH key objects, Sealos Secrets.
 * Providers that attach keys to the machine itself (Vast, fal) or make none (Coder) list none.
 */
export interface SideObject {
  /** What it is, in the provider's words: `ssh_key`, `secret`. */
  kind: string;
  /** The provider's id for it (Lambda's key id, the Secret's name). */
  id: string;
  /** The lease handle it was made under (its name). */
  handle: string;
  leaseId: string;
}

export interface InventoryPage {
  items: InventoryItem[];
  /** Opaque cursor for the next page; absent when this was the last page. */
  next?: string;
}

export type DoctorCheckStatus = "ok" | "warn" | "fail";
export interface DoctorCheck {
  name: string;
  status: DoctorCheckStatus;
  /** Error class when not ok: auth, network, config, capacity, quota, ... */
  class?: string;
  detail: string;
  hint?: string;
}

export interface CatalogEntry {
  type: string;
  description: string;
  priceCentsPerHour?: number;
  regions: string[];
  gpus?: number;
  /**
   * Whether the provider shows capacity for the type right now (Lambda: a region has it; Vast:
   * offers are listed). Absent: the provider does not say, only a create can tell.
   */
  available?: boolean;
}

export interface ProviderAdapter {
  readonly name: string;
  readonly capabilities: ProviderCapabilities;
  /** Type and region used when a lease request names none (from configuration). */
  readonly defaults?: { type?: string; region?: string };
  /**
   * Checks a request against what this provider accepts before any lease exists (key length
   * and type, names its catalog knows where that is cheap). Answers problems, empty when fine.
   */
  validate(spec: LeaseSpec): string[] | Promise<string[]>;
  /** Read-only account, configuration and capacity checks. Never throws; failures are checks. */
  doctor(): Promise<DoctorCheck[]>;
  catalog(): Promise<CatalogEntry[]>;
  /**
   * What a lease like this will cost at most, for admission's budget reservation: the type's
   * list price (Lambda), the price ceiling a market search may pay (Vast), or the operator's
   * configured rate (fal, Coder, Sealos). Undefined: no price (it reserves nothing).
   */
  priceCentsPerHour(spec: LeaseSpec): Promise<number | undefined>;
  /** The idempotency handle for a lease: deterministic, provider-legal, marks ownership. */
  handle(spec: LeaseSpec): string;
  /** Create (or join, by handle) the lease's resource. `attempt` counts from 1. */
  create(spec: LeaseSpec, attempt: { handle: string; number: number; firstAt: number }): Promise<ResourceRef>;
  /** Find what an ambiguous create left behind, by handle only. */
  recover(spec: LeaseSpec, handle: string): Promise<RecoverResult>;
  inspect(ref: ResourceRef, spec: LeaseSpec): Promise<ResourceStatus>;
  /**
   * One step of teardown. Idempotent; call until `done`. A lease releases everything its
   * handle created (`ref.id` and anything else launched under the handle, then side objects
   * such as key objects). With `exact`, only `ref.id` is removed and side objects only once
   * nothing else carries the handle: the orphan sweep's reclaim, which must never touch a
   * sibling resource a live lease may still claim.
   */
  release(ref: ResourceRef, action: ReleaseAction, spec: LeaseSpec, options?: { exact?: boolean }): Promise<ReleaseStep>;
  /** Start a parked resource again (only when capabilities.resume). */
  resume?(ref: ResourceRef, spec: LeaseSpec): Promise<void>;
  /** One page of resources in the account; the sweep keeps the ones with our marker. */
  inventory(cursor?: string): Promise<InventoryPage>;
  /** Every side object of this deployment, listed in full (or throws: the sweep fails closed). */
  sideObjects(): Promise<SideObject[]>;
  /** Removes one side object the sweep found stranded; one already gone is fine. */
  removeSideObject(object: SideObject): Promise<void>;
}

/** US cents per hour: while the machine runs, and while it is parked when that still bills. */
export interface Price {
  centsPerHour: number;
  storageCentsPerHour?: number;
}

/** Why a provider call did not succeed. `ambiguous` means it may have taken effect. */
export type ProviderErrorKind =
  | "ambiguous"
  | "definite"
  | "auth"
  | "capacity"
  | "quota"
  | "rate_limited"
  | "not_found"
  | "invalid"
  | "unsupported";

export class ProviderError extends Error {
  override readonly name = "ProviderError";
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    readonly options: { status?: number; code?: string; retryAfterMs?: number } = {},
  ) {
    super(message);
  }

  /** Worth retrying later without changing anything. */
  get retryable(): boolean {
    return this.kind === "ambiguous" || this.kind === "rate_limited";
  }
}

/** Per-provider configuration resolved from Worker vars and secrets. */
export interface ProviderConfig {
  deploymentId: string;
  /** Provider vars and secrets by name (e.g. LAMBDA_API_KEY, LAMBDA_BASE_URL). */
  vars: Record<string, string | undefined>;
  /** The account's pacing point at the caller's priority; absent: requests go out unpaced. */
  pacer?: Pacer;
  /** Leases may share recent whole-account listings (on wherever pacing is on). */
  sharedReads?: boolean;
}

export interface ProviderFactory {
  readonly name: string;
  /** Other names the provider answers to (fal: `fal-ai`); leases record the canonical name. */
  readonly aliases?: readonly string[];
  /**
   * The provider's documented account-wide limits by bucket. Every request takes a permit on
   * `account`; the client names further buckets for rarer, stricter endpoints (launch).
   */
  readonly rateLimits: RateLimits;
  /** True when the credentials this provider needs are present. */
  configured(config: ProviderConfig): boolean;
  /** The secrets it reads (any one suffices where there are alternatives), for the admin's config view. */
  readonly credentials: readonly string[];
  create(config: ProviderConfig): ProviderAdapter;
}
