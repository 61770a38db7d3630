// The Sealos ProviderAdapter: a lease is a `Devbox` custom resource in one namespace, spoken to
// over the Kubernetes API (no kubectl). The DevBox is named by the lease's short handle and
// labelled with the lease; its Secret is made first, carrying the lease's public key (SSHGate
// routes on it) and a backend key pair only the cluster ever holds, so no private key is handed
// to anyone. Release: `stop` (the default) pauses it under a resourceVersion fence, `destroy`
// shuts it down and deletes it with preconditions, then waits for the finalizer and the Secret.

import { OPENSSH_PUBLIC_KEY } from "../../contract/lease";
import type { Pacer } from "../../pacing/gcra";
import { generateOpenSshEd25519, keyMaterial } from "../ssh-keys";
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
import { reasonOf, SealosClient } from "./client";
import { runDoctor } from "./doctor";
import { carriesLease, decodeMarker, deploymentSelector, leaseHandle, markerAnnotations, markerLabels, PART_OF } from "./marker";
import type { NetworkType, SealosSettings } from "./settings";
import { API_VERSION, Devbox, SECRET_KEYS, type Secret } from "./wire";

export function sealosCapabilities(network: NetworkType): ProviderCapabilities {
  return {
    releaseActions: ["stop", "destroy"],
    defaultReleaseAction: "stop",
    // SSHGate answers before the DevBox behind it runs (DESIGN.md "Readiness through gateways");
    // a NodePort is the DevBox's own sshd.
    route: network === "NodePort" ? "direct" : "gateway",
    readiness: network === "NodePort" ? "ssh_banner" : "adapter",
    // Kubernetes reads by name are consistent: an object a lost answer created is visible at once.
    createSettleMs: 5_000,
    idempotentCreate: false,
    ownership: "marker",
    // ASSUMPTION: a paused DevBox keeps its storage, which Sealos bills; so the TTL destroys.
    stoppedBills: true,
    resume: true,
    requires: [],
    keyHandling: "secret",
  };
}

/** Park states in the order tried: clusters whose CRD predates `Paused` park with `Stopped`. */
const PAUSED = "Paused";
const STOPPED = "Stopped";
const SHUTDOWN = "Shutdown";
const RESUME_ATTEMPTS = 3;

export class SealosAdapter implements ProviderAdapter {
  readonly name = "sealos";
  readonly capabilities: ProviderCapabilities;
  readonly defaults = {};
  private readonly api?: SealosClient;
  private readonly problems: string[];

  constructor(
    private readonly settings: SealosSettings,
    options: { fetch?: typeof fetch; pacer?: Pacer; sharedReads?: boolean } = {},
  ) {
    this.capabilities = sealosCapabilities(settings.network);
    this.problems = [...settings.problems];
    try {
      if (settings.apiServer) this.api = new SealosClient({ apiServer: settings.apiServer, token: settings.token, namespace: settings.namespace, ...options });
    } catch (err) {
      this.problems.push(err instanceof Error ? `SEALOS_API_SERVER: ${err.message}` : "SEALOS_API_SERVER is invalid");
    }
  }

  validate(spec: LeaseSpec): string[] {
    const problems: string[] = [];
    if (spec.type !== undefined || spec.region !== undefined) problems.push("Sealos DevBoxes take their size from SEALOS_CPU and SEALOS_MEMORY and their region from the API server: a lease names no type or region");
    if (spec.maxPricePerHour !== undefined) problems.push("Sealos has no per-lease prices: maxPricePerHour does not apply");
    if (spec.parameters !== undefined) problems.push("Sealos DevBoxes take no template parameters");
    // SSHGate parses the first line of SEALOS_DEVBOX_PUBLIC_KEY as an authorized-key line.
    if (!OPENSSH_PUBLIC_KEY.test(spec.sshPublicKey)) problems.push("sshPublicKey must be one OpenSSH public key line");
    return problems;
  }

  async doctor(): Promise<DoctorCheck[]> {
    if (!this.api || this.problems.length) return [{ name: "config", status: "fail", class: "config", detail: this.problems.join("; "), hint: "fix the SEALOS_* vars and secrets" }];
    return runDoctor(this.api, this.settings);
  }

  async catalog(): Promise<CatalogEntry[]> {
    const { cpu, memory, image, network } = this.settings;
    return [{ type: "devbox", description: `Sealos DevBox: ${cpu} CPU, ${memory} memory, ${image}, reached through ${network}`, regions: [], priceCentsPerHour: this.settings.priceCentsPerHour }];
  }

  async priceCentsPerHour(): Promise<number | undefined> {
    return this.settings.priceCentsPerHour;
  }

  handle(spec: LeaseSpec): string {
    return leaseHandle(spec.deploymentId, spec.leaseId);
  }

  /**
   * The Secret first (the controller keeps an existing one), then the DevBox. A name already
   * taken is adopted only when its labels carry this lease and deployment; anything else fails
   * closed, and our Secret does not stay behind for a foreign DevBox to pick up.
   */
  async create(spec: LeaseSpec, attempt: { handle: string }): Promise<ResourceRef> {
    const api = this.client();
    const existing = await api.getDevbox(attempt.handle);
    if (existing) return this.adopt(existing, spec);
    await this.ensureSecret(spec, attempt.handle);
    try {
      return refOf(await api.createDevbox(devboxManifest(this.settings, spec, attempt.handle)));
    } catch (err) {
      if (reasonOf(err) !== "AlreadyExists") throw err;
      const raced = await api.getDevbox(attempt.handle);
      if (raced && carriesLease(raced.metadata, spec.deploymentId, spec.leaseId)) return refOf(raced);
      await this.removeSecret(attempt.handle, spec);
      throw foreign(attempt.handle);
    }
  }

  async recover(spec: LeaseSpec, handle: string): Promise<RecoverResult> {
    const devbox = await this.client().getDevbox(handle);
    // A foreign DevBox of that name is not this lease's: the next create fails closed on it.
    return devbox && carriesLease(devbox.metadata, spec.deploymentId, spec.leaseId) ? { kind: "found", ref: refOf(devbox) } : { kind: "absent" };
  }

  async inspect(ref: ResourceRef, spec: LeaseSpec): Promise<ResourceStatus> {
    const api = this.client();
    const devbox = await api.getDevbox(ref.handle);
    if (!devbox) return { phase: "gone", detail: "the API server answers NotFound for the DevBox" };
    if (ref.id && devbox.metadata.uid !== ref.id) return { phase: "gone", detail: "the DevBox of that name is another object now (its uid changed)" };
    const data = { ...ref.data, ...fence(devbox) };
    const status = devboxStatus(devbox);
    if (status.phase !== "running") return { ...status, data } as ResourceStatus;
    const user = devbox.spec.config?.user ?? this.settings.user;
    if (this.settings.network === "NodePort") {
      const nodePort = devbox.status?.network?.nodePort;
      if (!nodePort) return { phase: "pending", detail: "running, waiting for its nodePort", data };
      return { phase: "running", endpoint: { kind: "ssh", host: this.settings.sshHost, port: nodePort, user }, ready: true, detail: "Running (NodePort)", data };
    }
    // Through SSHGate, ready means the DevBox runs and the gateway routes the lease's key to it.
    const route = secretRoute(await api.getSecret(ref.handle), devbox, spec.sshPublicKey);
    if (route === "another key") return { phase: "failed", detail: "the DevBox's Secret does not carry the lease's key (the controller replaced it): SSHGate would not route the lease's key", data };
    const endpoint = { kind: "ssh" as const, host: this.settings.sshHost, port: this.settings.sshGatePort, user };
    return { phase: "running", endpoint, ready: route === "routes", detail: route === "routes" ? "Running, SSHGate routes the lease key" : `Running, ${route}`, data };
  }

  async release(ref: ResourceRef, action: ReleaseAction, spec: LeaseSpec): Promise<ReleaseStep> {
    const api = this.client();
    const devbox = await api.getDevbox(ref.handle);
    // Only the exact object this lease made (or, before its uid was known, one carrying its labels).
    const mine = devbox && (ref.id ? devbox.metadata.uid === ref.id : carriesLease(devbox.metadata, spec.deploymentId, spec.leaseId));
    if (!devbox || !mine) return action === "stop" ? { done: true } : this.releaseSecret(ref, spec);
    const data = { ...ref.data, ...fence(devbox) };
    return action === "stop" ? this.park(devbox, data) : this.destroy(devbox, data);
  }

  /** Start a parked DevBox: `spec.state: Running` under the fence, re-read on a conflict. */
  async resume(ref: ResourceRef): Promise<void> {
    const api = this.client();
    for (let i = 0; i < RESUME_ATTEMPTS; i++) {
      const devbox = await api.getDevbox(ref.handle);
      if (!devbox || (ref.id && devbox.metadata.uid !== ref.id)) throw new ProviderError("definite", "the DevBox is gone: nothing to resume");
      try {
        await api.patchDevbox(ref.handle, { metadata: { resourceVersion: devbox.metadata.resourceVersion }, spec: { state: "Running" } });
        return;
      } catch (err) {
        if (reasonOf(err) !== "Conflict") throw err;
      }
    }
    throw new ProviderError("ambiguous", "the DevBox kept changing while it was resumed; trying again");
  }

  async inventory(cursor?: string): Promise<InventoryPage> {
    const page = await this.client().listDevboxes(deploymentSelector(this.settings.deploymentId), cursor);
    const items = page.items.flatMap((item) => {
      const parsed = Devbox.safeParse(item);
      if (parsed.success) return [parsed.data];
      // Everything listed carries our selector: a shape we cannot read must not be skipped.
      throw new ProviderError("ambiguous", "Kubernetes GET devboxes: a DevBox of this deployment does not match the documented shape");
    });
    return {
      items: items.map((d) => ({
        id: d.metadata.uid,
        status: `${d.spec.state ?? "?"}/${d.status?.phase ?? "no status"}${d.metadata.deletionTimestamp ? " (deleting)" : ""}`,
        marker: decodeMarker(d.metadata, this.settings.deploymentId),
        createdAt: d.metadata.creationTimestamp ? Date.parse(d.metadata.creationTimestamp) : undefined,
      })),
      next: page.metadata?.continue || undefined,
    };
  }

  /** This deployment's DevBox Secrets, listed as metadata only (their data holds private keys). */
  async sideObjects(): Promise<SideObject[]> {
    const api = this.client();
    const found: SideObject[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.listSecretMetadata(`${deploymentSelector(this.settings.deploymentId)},${PART_OF}=devbox`, cursor);
      for (const { metadata } of page.items) {
        const marker = decodeMarker(metadata, this.settings.deploymentId);
        if (marker?.deploymentId === this.settings.deploymentId) found.push({ kind: "secret", id: metadata.name, handle: metadata.name, leaseId: marker.leaseId });
      }
      cursor = page.metadata?.continue || undefined;
    } while (cursor);
    return found;
  }

  async removeSideObject(object: SideObject): Promise<void> {
    const secret = await this.client().getSecret(object.handle);
    if (!secret || !carriesLease(secret.metadata, this.settings.deploymentId, object.leaseId)) return;
    await this.client().deleteSecret(object.handle, { uid: secret.metadata.uid, resourceVersion: secret.metadata.resourceVersion });
  }

  private async park(devbox: Devbox, data: NonNullable<ResourceRef["data"]>): Promise<ReleaseStep> {
    const target = data.parkState === STOPPED ? STOPPED : PAUSED;
    if (devbox.metadata.deletionTimestamp) return { done: false, detail: "the DevBox is being deleted", data };
    if (devbox.spec.state === PAUSED || devbox.spec.state === STOPPED) {
      const status = devboxStatus(devbox);
      return status.phase === "stopped" ? { done: true, data } : { done: false, detail: `${devbox.spec.state} requested, ${status.detail}`, data };
    }
    const outcome = await this.setState(devbox, target);
    if (outcome === "unsupported" && target === PAUSED) {
      // An older CRD without `Paused`: park with `Stopped` from now on.
      const fallback = await this.setState(devbox, STOPPED);
      return { done: false, detail: fallback === "ok" ? "this cluster has no Paused: Stopped requested" : fallback, data: { ...data, parkState: STOPPED } };
    }
    return { done: false, detail: outcome === "ok" ? `${target} requested` : outcome, data };
  }

  private async destroy(devbox: Devbox, data: NonNullable<ResourceRef["data"]>): Promise<ReleaseStep> {
    const api = this.client();
    if (devbox.metadata.deletionTimestamp) return { done: false, detail: "deleted, waiting for the controller's finalizer", data };
    if (devbox.spec.state !== SHUTDOWN) {
      const outcome = await this.setState(devbox, SHUTDOWN);
      // A commit in progress refuses state changes (the CRD's rule); a delete is not an update.
      if (outcome !== "refused while committing") return { done: false, detail: outcome === "ok" ? "Shutdown requested" : outcome, data };
    }
    try {
      await api.deleteDevbox(devbox.metadata.name, { uid: devbox.metadata.uid, resourceVersion: devbox.metadata.resourceVersion });
    } catch (err) {
      if (reasonOf(err) === "Conflict") return { done: false, detail: "the DevBox changed before the delete (precondition failed); re-reading", data };
      throw err;
    }
    return { done: false, detail: "delete accepted, waiting for the finalizer", data };
  }

  /** One fenced merge patch of `spec.state`; what stopped it, when something did. */
  private async setState(devbox: Devbox, state: string): Promise<"ok" | "unsupported" | "refused while committing" | "the DevBox changed under the patch; re-reading"> {
    try {
      await this.client().patchDevbox(devbox.metadata.name, { metadata: { resourceVersion: devbox.metadata.resourceVersion }, spec: { state } });
      return "ok";
    } catch (err) {
      const reason = reasonOf(err);
      if (reason === "Conflict") return "the DevBox changed under the patch; re-reading";
      if (reason === "Invalid" && err instanceof ProviderError) {
        if (err.message.includes(`Unsupported value: "${state}"`)) return "unsupported";
        if (err.message.includes("failed rule")) return "refused while committing";
      }
      throw err;
    }
  }

  /** After the DevBox: its Secret goes with the owner reference; delete it if it lingers. */
  private async releaseSecret(ref: ResourceRef, spec: LeaseSpec): Promise<ReleaseStep> {
    const secret = await this.client().getSecret(ref.handle);
    if (!secret || !ownSecret(secret, ref, spec)) return { done: true };
    if (secret.metadata.deletionTimestamp) return { done: false, detail: "the DevBox's Secret is being deleted" };
    await this.removeSecret(ref.handle, spec, secret);
    return { done: false, detail: "the DevBox's Secret outlived it; deleted" };
  }

  private async removeSecret(name: string, spec: LeaseSpec, known?: Secret): Promise<void> {
    const secret = known ?? (await this.client().getSecret(name));
    if (!secret || !carriesLease(secret.metadata, spec.deploymentId, spec.leaseId)) return;
    await this.client().deleteSecret(name, { uid: secret.metadata.uid, resourceVersion: secret.metadata.resourceVersion });
  }

  /** The Secret the DevBox's controller and SSHGate read, made by us with the lease's key. */
  private async ensureSecret(spec: LeaseSpec, handle: string): Promise<void> {
    const api = this.client();
    const backend = await generateOpenSshEd25519(`crabbox-backend-${handle}`);
    try {
      await api.createSecret(secretManifest(spec, handle, backend), backend.private);
    } catch (err) {
      if (reasonOf(err) !== "AlreadyExists") throw err;
      // An earlier attempt's Secret is reused (its backend key is the one already in the cluster).
      const secret = await api.getSecret(handle);
      if (!secret || !carriesLease(secret.metadata, spec.deploymentId, spec.leaseId)) throw new ProviderError("definite", `a Secret named ${handle} exists that this lease did not create; refusing to use it`);
      if (keyMaterial(decode(secret.data?.[SECRET_KEYS.publicKey])) !== keyMaterial(spec.sshPublicKey)) throw new ProviderError("definite", `the Secret ${handle} carries another public key; refusing to use it`);
    }
  }

  private adopt(devbox: Devbox, spec: LeaseSpec): ResourceRef {
    if (!carriesLease(devbox.metadata, spec.deploymentId, spec.leaseId)) throw foreign(devbox.metadata.name);
    return refOf(devbox);
  }

  private client(): SealosClient {
    if (!this.api || this.problems.length) throw new ProviderError("invalid", `Sealos is misconfigured: ${this.problems.join("; ")}`);
    return this.api;
  }
}

const foreign = (name: string) => new ProviderError("definite", `a DevBox named ${name} exists that this lease did not create; refusing to adopt it`);

/** The Devbox this lease asks for: only fields the CRD declares (creates pass fieldValidation=Strict). */
export function devboxManifest(settings: SealosSettings, spec: LeaseSpec, handle: string) {
  return {
    apiVersion: API_VERSION,
    kind: "Devbox",
    metadata: { name: handle, labels: markerLabels(spec.deploymentId, spec.leaseId), annotations: markerAnnotations(spec) },
    spec: {
      state: "Running",
      resource: { cpu: settings.cpu, memory: settings.memory },
      image: spec.image ?? settings.image,
      network: { type: settings.network },
      config: { user: settings.user, ports: [{ name: "devbox-ssh-port", containerPort: 22, protocol: "TCP" }] },
    },
  };
}

/**
 * The Secret named like the DevBox, before the DevBox exists: the lease's key is the one SSHGate
 * routes on and the DevBox accepts; the backend pair is the gateway's hop into the DevBox.
 */
function secretManifest(spec: LeaseSpec, handle: string, backend: { private: string; public: string }) {
  const lease = spec.sshPublicKey.trim();
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: handle, labels: { [PART_OF]: "devbox", ...markerLabels(spec.deploymentId, spec.leaseId) }, annotations: markerAnnotations(spec) },
    type: "Opaque",
    data: {
      [SECRET_KEYS.publicKey]: encode(lease),
      [SECRET_KEYS.privateKey]: encode(backend.private),
      [SECRET_KEYS.authorizedKeys]: encode(`${backend.public}\n${lease}\n`),
    },
  };
}

/**
 * What SSHGate's registry would do with this Secret: route when it is labelled part-of devbox,
 * owned by this DevBox, and the first line of its public key is the lease's key.
 */
export function secretRoute(secret: Secret | undefined, devbox: Devbox, leaseKey: string): "routes" | "another key" | string {
  if (!secret) return "its Secret is missing";
  if (secret.metadata.labels?.[PART_OF] !== "devbox") return "its Secret lacks the part-of label";
  if (!secret.metadata.ownerReferences?.some((o) => o.kind === "Devbox" && o.uid === devbox.metadata.uid)) return "waiting for the controller to take over its Secret";
  const first = decode(secret.data?.[SECRET_KEYS.publicKey]).split("\n")[0] ?? "";
  return keyMaterial(first) === keyMaterial(leaseKey) ? "routes" : "another key";
}

function ownSecret(secret: Secret, ref: ResourceRef, spec: LeaseSpec): boolean {
  if (carriesLease(secret.metadata, spec.deploymentId, spec.leaseId)) return true;
  return Boolean(ref.id && secret.metadata.ownerReferences?.some((o) => o.kind === "Devbox" && o.uid === ref.id));
}

/**
 * Total map from what the controller reports (`status.state`, then `status.phase`; never
 * `spec.state`, which is only what was asked).
 */
export function devboxStatus(devbox: Devbox): { phase: ResourceStatus["phase"]; detail: string } {
  if (devbox.metadata.deletionTimestamp) return { phase: "terminating", detail: "deletionTimestamp set, finalizer pending" };
  const state = devbox.status?.state;
  const phase = devbox.status?.phase;
  const detail = `state ${state ?? "-"}, phase ${phase ?? "-"}`;
  if (!devbox.status || (!state && !phase)) return { phase: "pending", detail: "the controller has not reported yet" };
  if (phase === "Error") return { phase: "failed", detail };
  if (phase === "Unknown") return { phase: "unknown", detail };
  if (state === "Running" || (!state && phase)) {
    if (phase === "Running") return { phase: "running", detail };
    if (phase === "Pending" || !phase) return { phase: "pending", detail };
  }
  if (phase === "Pausing" || phase === "Stopping" || phase === "Shutting") return { phase: "stopping", detail };
  if (phase === "Paused" || phase === "Stopped" || phase === "Shutdown") return { phase: "stopped", detail };
  if (state === "Paused" || state === "Stopped" || state === "Shutdown") return { phase: "stopping", detail };
  return { phase: "unknown", detail };
}

function refOf(devbox: Devbox): ResourceRef {
  return { handle: devbox.metadata.name, id: devbox.metadata.uid, data: fence(devbox) };
}

const fence = (devbox: Devbox) => ({ uid: devbox.metadata.uid, resourceVersion: devbox.metadata.resourceVersion });

function encode(text: string): string {
  let binary = "";
  for (const b of new TextEncoder().encode(text)) binary += String.fromCharCode(b);
  return btoa(binary);
}

function decode(b64: string | null | undefined): string {
  if (!b64) return "";
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  } catch {
    return "";
  }
}
