// The Vast emulator's in-memory account: an offer market (an offer leaves it while rented and
// returns when released), instances with Vast's lifecycle (null → loading → running → stopped →
// running / destroyed), labels, the account-level key copied into new instances, per-instance
// keys, and the real SSH server each running instance serves on its own 127.11.x.y address.
import { randomBytes } from "node:crypto";
import { startSshMachine, type SshMachine } from "../ssh-machine.ts";
import type { AddressPool } from "../loopback.ts";

export const VAST_SSH_USER = "root";
const DAY_S = 86_400;

export interface OfferRecord {
  id: number;
  machine_id: number;
  num_gpus: number;
  gpu_name: string;
  dph_total: number;
  geolocation: string;
  reliability: number;
  direct_port_count: number;
  /** Epoch seconds when the host's contract ends. */
  end_date: number;
  verified: boolean;
  storage_cost: number;
}

export interface VastConfig {
  /** How long an instance is `null` (provisioning), then how long `loading`, before `running`. */
  provisionMs: number;
  bootMs: number;
  /** Minimum interval between two requests to the same endpoint (per-endpoint limit); null = off. */
  endpointIntervalMs: number | null;
  /** The account-level key copied into every new instance (GET /users/current/ `ssh_key`). */
  accountKey: string | null;
  /** The market; replaces the default one when configured. */
  offers: OfferRecord[];
}

export function defaultOffers(now = Date.now()): OfferRecord[] {
  // ASSUMPTION: hosts list contract ends months to years out; the emulator's regular offers end
  // five years out, so a lease's TTL (and a test's fake clock a few years ahead) fits before them.
  const end = Math.floor(now / 1000) + 5 * 365 * DAY_S;
  const offer = (id: number, gpus: number, gpu: string, dph: number, geo: string, extra: Partial<OfferRecord> = {}): OfferRecord => ({
    id, machine_id: 50_000 + id, num_gpus: gpus, gpu_name: gpu, dph_total: dph, geolocation: geo, reliability: 0.995,
    direct_port_count: 24, end_date: end, verified: true, storage_cost: 0.1, ...extra,
  });
  return [
    offer(1001, 1, "RTX 4090", 0.35, "California, US"),
    offer(1002, 1, "RTX 4090", 0.4, "Quebec, CA"),
    offer(1003, 1, "RTX 4090", 0.45, "Texas, US"),
    offer(1004, 2, "RTX 4090", 0.8, "Oregon, US"),
    offer(1005, 1, "H100 SXM", 2.1, "Virginia, US"),
    offer(1006, 8, "H100 SXM", 16.5, "Virginia, US"),
    // Cheap but unreliable, and cheap without a direct port: a lease's filters must skip them.
    offer(1007, 1, "RTX 4090", 0.2, "Nevada, US", { reliability: 0.8 }),
    offer(1008, 1, "RTX 4090", 0.25, "Nevada, US", { direct_port_count: 0 }),
    // Its contract ends tomorrow: too soon for a lease that wants more than a day.
    offer(1009, 1, "RTX 4090", 0.3, "Ohio, US", { end_date: Math.floor(now / 1000) + DAY_S }),
  ];
}

export const DEFAULT_CONFIG: VastConfig = { provisionMs: 0, bootMs: 0, endpointIntervalMs: null, accountKey: null, offers: [] };

export type ActualStatus = null | "loading" | "running" | "stopped" | "exited" | "unknown" | "offline";
/** What the control plane may force: provider statuses, plus two market events. */
export const FORCEABLE = ["running", "stopped", "exited", "unknown", "offline", "outbid", "gpu_taken"] as const;

export interface InstanceRecord {
  id: number;
  offer: OfferRecord;
  label: string | null;
  image: string;
  runtype: string;
  onstart: string | null;
  actual: ActualStatus;
  intended: "running" | "stopped";
  isBid: boolean;
  statusMsg: string | null;
  createdAt: number;
  /** When the current start (create or restart) reaches `loading`, then `running`. */
  loadingAt: number;
  runningAt: number;
  holdsGpu: boolean;
  keys: { id: number; public_key: string }[];
  address: string;
  jupyterToken: string;
  instanceApiKey: string;
  machine?: SshMachine;
  starting?: Promise<void>;
  destroyedAt?: number;
}

export interface VastStateOptions {
  config: VastConfig;
  sshPort: number;
  addresses: AddressPool;
  now?: () => number;
}

export type VastState = ReturnType<typeof createVastState>;

export function createVastState(options: VastStateOptions) {
  const now = options.now ?? Date.now;
  const initial = structuredClone(options.config);
  let config = structuredClone(initial);
  let market = new Map<number, { offer: OfferRecord; heldBy: number | "stranger" | null }>();
  let instances = new Map<number, InstanceRecord>();
  let nextId = 20_000_000;
  let nextKeyId = 700;
  const lastCall = new Map<string, number>();

  function loadMarket(): void {
    market = new Map((config.offers.length ? config.offers : defaultOffers(now())).map((offer) => [offer.id, { offer: { ...offer }, heldBy: null }]));
  }
  loadMarket();

  function takeGpu(rec: InstanceRecord): boolean {
    const slot = market.get(rec.offer.id);
    if (!slot || (slot.heldBy !== null && slot.heldBy !== rec.id)) return false;
    slot.heldBy = rec.id;
    rec.holdsGpu = true;
    return true;
  }

  function releaseGpu(rec: InstanceRecord): void {
    const slot = market.get(rec.offer.id);
    if (slot?.heldBy === rec.id) slot.heldBy = null;
    rec.holdsGpu = false;
  }

  async function stopMachine(rec: InstanceRecord): Promise<void> {
    await rec.starting;
    const machine = rec.machine;
    rec.machine = undefined;
    await machine?.close();
  }

  function startMachine(rec: InstanceRecord): Promise<void> {
    if (rec.machine) return Promise.resolve();
    rec.starting ??= startSshMachine({
      host: rec.address,
      port: options.sshPort,
      user: VAST_SSH_USER,
      // Attached keys change while the machine runs: read them at every login.
      authorizedKeys: () => rec.keys.map((k) => k.public_key),
      // `onstart` runs after Vast's entrypoint, at every start (docs: creating-instances-with-api).
      bootScript: rec.onstart ?? undefined,
    }).then(
      async (machine) => {
        rec.starting = undefined;
        if (rec.actual !== "running" || instances.get(rec.id) !== rec) return machine.close();
        rec.machine = machine;
      },
      (err: Error) => {
        rec.starting = undefined;
        rec.actual = "exited";
        rec.statusMsg = `ssh server failed: ${err.message}`;
      },
    );
    return rec.starting;
  }

  /** Moves every instance along its timeline; a restart waiting for its GPU tries again. */
  async function settle(): Promise<void> {
    const t = now();
    const starts: Promise<void>[] = [];
    for (const rec of instances.values()) {
      if (rec.intended !== "running") continue;
      if (rec.actual === "stopped" && !rec.isBid) {
        // A restart: it waits (possibly forever) for its GPU (docs: manage-instances).
        if (!takeGpu(rec)) {
          rec.statusMsg = "waiting for the GPU to become available (scheduling)";
          continue;
        }
        rec.actual = null;
        rec.loadingAt = t + config.provisionMs;
        rec.runningAt = rec.loadingAt + config.bootMs;
        rec.statusMsg = null;
      }
      if (rec.actual === null && t >= rec.loadingAt) rec.actual = "loading";
      if (rec.actual === "loading" && t >= rec.runningAt) {
        rec.actual = "running";
        rec.statusMsg = `success, running ${rec.image}`;
        starts.push(startMachine(rec));
      }
    }
    await Promise.all(starts);
  }

  return {
    get config(): VastConfig {
      return config;
    },
    setConfig(next: VastConfig): void {
      const offersChanged = JSON.stringify(next.offers) !== JSON.stringify(config.offers);
      config = next;
      if (offersChanged) loadMarket();
    },
    settle,
    instances: () => [...instances.values()],
    get: (id: number) => instances.get(id),

    /** Offers on the market: not held by anyone. */
    availableOffers(): OfferRecord[] {
      return [...market.values()].filter((slot) => slot.heldBy === null).map((slot) => slot.offer);
    },
    offer: (id: number) => market.get(id),

    /** Per-endpoint minimum interval; false when this call comes too soon. */
    takeEndpointSlot(endpoint: string): boolean {
      if (config.endpointIntervalMs === null) return true;
      const t = now();
      const last = lastCall.get(endpoint);
      if (last !== undefined && t - last < config.endpointIntervalMs) return false;
      lastCall.set(endpoint, t);
      return true;
    },

    /** PUT /asks/{id}/ on an offer whose GPU may or may not be free. */
    create(spec: { offer: OfferRecord; label: string | null; image: string; runtype: string; onstart: string | null; startNow: boolean }): InstanceRecord {
      const t = now();
      const rec: InstanceRecord = {
        id: nextId++,
        offer: spec.offer,
        label: spec.label,
        image: spec.image,
        runtype: spec.runtype,
        onstart: spec.onstart,
        actual: null,
        intended: "running",
        isBid: false,
        statusMsg: null,
        createdAt: t,
        loadingAt: t + config.provisionMs,
        runningAt: t + config.provisionMs + config.bootMs,
        holdsGpu: false,
        // Account keys are copied into new instances only (docs: connect/ssh).
        keys: config.accountKey ? [{ id: nextKeyId++, public_key: config.accountKey }] : [],
        address: options.addresses.next(),
        jupyterToken: randomBytes(32).toString("hex"),
        instanceApiKey: randomBytes(32).toString("hex"),
      };
      instances.set(rec.id, rec);
      if (spec.startNow) takeGpu(rec);
      else {
        // Without cancel_unavail a create that cannot start leaves a stopped instance (cli-facts.md).
        rec.actual = "stopped";
        rec.statusMsg = "could not start: GPU unavailable";
      }
      return rec;
    },

    async setState(rec: InstanceRecord, state: "running" | "stopped"): Promise<void> {
      rec.intended = state;
      if (state === "stopped") {
        rec.actual = "stopped";
        rec.statusMsg = null;
        releaseGpu(rec);
        await stopMachine(rec);
      }
      await settle();
    },

    async destroy(rec: InstanceRecord): Promise<void> {
      instances.delete(rec.id);
      rec.destroyedAt = now();
      releaseGpu(rec);
      await stopMachine(rec);
    },

    attachKey(rec: InstanceRecord, publicKey: string): void {
      if (!rec.keys.some((k) => k.public_key.trim() === publicKey.trim())) rec.keys.push({ id: nextKeyId++, public_key: publicKey.trim() });
    },

    detachKey(rec: InstanceRecord, keyId: number): boolean {
      const before = rec.keys.length;
      rec.keys = rec.keys.filter((k) => k.id !== keyId);
      return rec.keys.length < before;
    },

    /** Control plane: a provider status, an interruptible instance outbid, or its GPU taken. */
    async force(rec: InstanceRecord, status: (typeof FORCEABLE)[number]): Promise<void> {
      if (status === "gpu_taken" || status === "outbid") {
        releaseGpu(rec);
        const slot = market.get(rec.offer.id);
        if (slot) slot.heldBy = "stranger";
      }
      if (status === "outbid") {
        rec.isBid = true;
        rec.actual = "stopped";
        rec.intended = "running";
        rec.statusMsg = "outbid";
        await stopMachine(rec);
        return;
      }
      if (status === "gpu_taken") return;
      rec.actual = status;
      if (status === "running") {
        rec.intended = "running";
        takeGpu(rec);
        await startMachine(rec);
      } else await stopMachine(rec);
    },

    async reset(): Promise<void> {
      const all = [...instances.values()];
      instances = new Map();
      lastCall.clear();
      config = structuredClone(initial);
      loadMarket();
      await Promise.all(all.map(stopMachine));
    },
  };
}
