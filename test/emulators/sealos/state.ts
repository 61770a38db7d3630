// The Sealos emulator's cluster: namespaced Devboxes, Secrets and Events with resourceVersion,
// uid, generation, finalizers and deletionTimestamp, plus a controller loop that plays the DevBox
// controller (controller-and-api-facts.md §1): finalizer, status (a subresource clients cannot
// write), the Secret (kept when it exists, else generated), a real SSH server per running DevBox
// that accepts the Secret's authorized keys, pause/stop/shutdown, and deletion.
import { randomBytes, randomUUID } from "node:crypto";
import { generateEd25519 } from "../keys.ts";
import { startSshMachine, type SshMachine } from "../ssh-machine.ts";

export interface SealosConfig {
  /** How long a DevBox takes from Pending to Running, and to pause/stop. */
  bootMs: number;
  stopMs: number;
  /** How long the finalizer holds a deleted DevBox. */
  finalizeMs: number;
  /** The CRD knows spec.state Paused (older clusters do not). */
  pausedSupported: boolean;
  /** The tokens may create Secrets in their namespace. */
  secretsAllowed: boolean;
  /** The tokens may list Secrets in their namespace (the sweep's side-object listing). */
  secretListAllowed: boolean;
  /** Owner-referenced Secrets are garbage-collected when their DevBox is gone. */
  garbageCollect: boolean;
}

export const DEFAULT_CONFIG: SealosConfig = { bootMs: 0, stopMs: 0, finalizeMs: 0, pausedSupported: true, secretsAllowed: true, secretListAllowed: true, garbageCollect: true };
export const FINALIZER = "devbox.sealos.io/finalizer";
export const PART_OF = "app.kubernetes.io/part-of";

type Json = Record<string, unknown>;
export interface Meta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
}
export interface StoredObject {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  [key: string]: unknown;
}
export interface DevboxRecord {
  object: StoredObject & { spec: Json & { state?: string; config?: { user?: string }; network?: { type?: string } }; status?: Json };
  /** When the current spec.state was asked for; transitions complete from here. */
  changedAt: number;
  deletingSince?: number;
  machine?: SshMachine;
  starting?: Promise<void>;
  /** The DevBox's port: kept across pause/resume like a Service's nodePort. */
  port: number;
  hostKey: string;
}

export type SealosState = ReturnType<typeof createSealosState>;

const b64 = (text: string) => Buffer.from(text).toString("base64");
export const unb64 = (text: unknown) => (typeof text === "string" ? Buffer.from(text, "base64").toString("utf8") : "");

export function createSealosState(options: { config: SealosConfig; nodeHost: string }) {
  const initial = { ...options.config };
  let config = { ...initial };
  let rv = 1000;
  let devboxes = new Map<string, DevboxRecord>(); // key: ns/name
  let secrets = new Map<string, StoredObject>();
  let events: StoredObject[] = [];
  const now = () => Date.now();
  const key = (ns: string, name: string) => `${ns}/${name}`;
  const bump = (meta: Meta) => {
    meta.resourceVersion = String(++rv);
  };

  function newMeta(ns: string, given: Partial<Meta>): Meta {
    return {
      ...given,
      name: given.name!,
      namespace: ns,
      uid: randomUUID(),
      resourceVersion: String(++rv),
      creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    };
  }

  function event(devbox: StoredObject, reason: string, message: string): void {
    const meta = devbox.metadata;
    events.push({ apiVersion: "v1", kind: "Event", metadata: newMeta(meta.namespace, { name: `${meta.name}.${randomBytes(8).toString("hex")}` }), involvedObject: { kind: "Devbox", name: meta.name, namespace: meta.namespace, uid: meta.uid }, reason, message, type: "Normal" });
    if (events.length > 500) events = events.slice(-500);
  }

  /** The controller's Secret step: keep an existing Secret's keys, else generate a pair. */
  function syncSecret(rec: DevboxRecord): void {
    const meta = rec.object.metadata;
    const owner = { apiVersion: "devbox.sealos.io/v1alpha2", kind: "Devbox", name: meta.name, uid: meta.uid, controller: true, blockOwnerDeletion: true };
    const existing = secrets.get(key(meta.namespace, meta.name));
    if (existing) {
      const data = (existing.data ??= {}) as Record<string, string>;
      data.SEALOS_DEVBOX_JWT_SECRET ??= b64(randomBytes(16).toString("hex"));
      data.SEALOS_DEVBOX_AUTHORIZED_KEYS ??= data.SEALOS_DEVBOX_PUBLIC_KEY ?? "";
      existing.metadata.ownerReferences = [owner];
      bump(existing.metadata);
      return;
    }
    const pair = generateEd25519();
    const labels = { "app.kubernetes.io/name": meta.name, "app.kubernetes.io/managed-by": "sealos", [PART_OF]: "devbox" };
    const data = { SEALOS_DEVBOX_JWT_SECRET: b64(randomBytes(16).toString("hex")), SEALOS_DEVBOX_PUBLIC_KEY: b64(pair.public), SEALOS_DEVBOX_PRIVATE_KEY: b64(pair.private), SEALOS_DEVBOX_AUTHORIZED_KEYS: b64(pair.public) };
    secrets.set(key(meta.namespace, meta.name), { apiVersion: "v1", kind: "Secret", metadata: { ...newMeta(meta.namespace, { name: meta.name, labels }), ownerReferences: [owner] }, type: "Opaque", data });
  }

  const authorizedKeys = (rec: DevboxRecord) => () =>
    unb64((secrets.get(key(rec.object.metadata.namespace, rec.object.metadata.name))?.data as Json | undefined)?.SEALOS_DEVBOX_AUTHORIZED_KEYS)
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);

  async function stopMachine(rec: DevboxRecord): Promise<void> {
    await rec.starting;
    const machine = rec.machine;
    rec.machine = undefined;
    await machine?.close();
  }

  function setStatus(rec: DevboxRecord, patch: Json): void {
    const status = (rec.object.status ??= {}) as Json;
    let changed = false;
    for (const [k, v] of Object.entries(patch)) {
      if (JSON.stringify(status[k]) !== JSON.stringify(v)) {
        status[k] = v;
        changed = true;
      }
    }
    if (changed) bump(rec.object.metadata);
  }

  async function reconcile(rec: DevboxRecord): Promise<void> {
    const obj = rec.object;
    const meta = obj.metadata;
    const t = now();
    if (meta.deletionTimestamp) {
      rec.deletingSince ??= t;
      await stopMachine(rec);
      if (t - rec.deletingSince < config.finalizeMs) return;
      meta.finalizers = (meta.finalizers ?? []).filter((f) => f !== FINALIZER);
      if (!meta.finalizers.length) remove(rec);
      return;
    }
    if (!meta.finalizers?.includes(FINALIZER)) {
      meta.finalizers = [...(meta.finalizers ?? []), FINALIZER];
      bump(meta);
    }
    if (!obj.status) {
      syncSecret(rec);
      const contentID = randomUUID();
      const network = { type: obj.spec.network?.type ?? "SSHGate", uniqueID: randomBytes(4).toString("hex") };
      setStatus(rec, { contentID, commitRecords: { [contentID]: { commitStatus: "Pending", node: "emulated-node", baseImage: obj.spec.image } }, network, phase: "Pending", state: "Running", conditions: [] });
      event(obj, "SecretSynced", "the DevBox's Secret is in place");
    }
    const status = obj.status as Json;
    if (status.phase === "Error") return;
    const want = obj.spec.state ?? "Running";
    const since = t - rec.changedAt;
    if (want === "Running") {
      if (rec.machine) return setStatus(rec, { phase: "Running", state: "Running" });
      if (status.phase !== "Pending") setStatus(rec, { phase: "Pending", state: "Running" });
      if (since < config.bootMs) return;
      rec.starting ??= startSshMachine({ host: options.nodeHost, port: rec.port, user: obj.spec.config?.user ?? "devbox", authorizedKeys: authorizedKeys(rec), hostKey: rec.hostKey }).then((m) => {
        rec.machine = m;
        rec.port = m.port;
        rec.starting = undefined;
      });
      await rec.starting;
      const network = { ...(status.network as Json), ...(obj.spec.network?.type === "NodePort" ? { nodePort: rec.port } : {}) };
      setStatus(rec, { phase: "Running", state: "Running", network });
      event(obj, "Started", "the DevBox's pod is running");
      return;
    }
    const transitional = { Paused: "Pausing", Stopped: "Stopping", Shutdown: "Shutting" }[want] ?? "Stopping";
    if (status.phase !== want && since < config.stopMs) return setStatus(rec, { phase: transitional });
    await stopMachine(rec);
    setStatus(rec, { phase: want, state: want });
  }

  function remove(rec: DevboxRecord): void {
    const meta = rec.object.metadata;
    devboxes.delete(key(meta.namespace, meta.name));
    if (!config.garbageCollect) return;
    for (const [k, secret] of secrets) {
      if (secret.metadata.ownerReferences?.some((o) => o.uid === meta.uid)) secrets.delete(k);
    }
  }

  return {
    get config() {
      return config;
    },
    setConfig(next: SealosConfig) {
      config = next;
    },
    /** Runs the controller once over every DevBox (called before each API request). */
    async settle(): Promise<void> {
      for (const rec of [...devboxes.values()]) await reconcile(rec);
    },
    newMeta,
    bump,
    devbox: (ns: string, name: string) => devboxes.get(key(ns, name)),
    devboxes: (ns?: string) => [...devboxes.values()].filter((r) => !ns || r.object.metadata.namespace === ns),
    addDevbox(object: DevboxRecord["object"]): DevboxRecord {
      const rec: DevboxRecord = { object, changedAt: now(), port: 0, hostKey: generateEd25519().private };
      devboxes.set(key(object.metadata.namespace, object.metadata.name), rec);
      return rec;
    },
    /** A spec.state change restarts the transition clock. */
    stateChanged(rec: DevboxRecord): void {
      rec.changedAt = now();
    },
    /** DELETE: with finalizers the object lingers with deletionTimestamp; without, it is gone. */
    markDeleted(rec: DevboxRecord): boolean {
      const meta = rec.object.metadata;
      if (meta.finalizers?.length) {
        if (!meta.deletionTimestamp) {
          meta.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
          bump(meta);
        }
        return false;
      }
      remove(rec);
      return true;
    },
    secret: (ns: string, name: string) => secrets.get(key(ns, name)),
    secrets: (ns?: string) => [...secrets.values()].filter((s) => !ns || s.metadata.namespace === ns),
    putSecret(object: StoredObject): void {
      secrets.set(key(object.metadata.namespace, object.metadata.name), object);
    },
    deleteSecret(ns: string, name: string): void {
      secrets.delete(key(ns, name));
    },
    events: (ns: string) => events.filter((e) => e.metadata.namespace === ns),
    async reset(): Promise<void> {
      const all = [...devboxes.values()];
      devboxes = new Map();
      secrets = new Map();
      events = [];
      config = { ...initial };
      await Promise.all(all.map(stopMachine));
    },
  };
}
