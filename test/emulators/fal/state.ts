// The fal emulator's in-memory account: instances (provisioning → ready with an ip → deleted),
// the 10-minute Idempotency-Key cache on the emulator's own (offsettable) clock, and the real SSH
// server each ready instance serves on its own 127.12.x.y address.
import { createHash, randomBytes } from "node:crypto";
import { startSshMachine, type SshMachine } from "../ssh-machine.ts";
import type { AddressPool } from "../loopback.ts";

export const FAL_SSH_USER = "ubuntu";
export const IDEMPOTENCY_TTL_MS = 10 * 60_000;
export const STATUSES = ["ready", "init", "pending", "provisioning", "stopped", "unknown"] as const;

export interface FalConfig {
  /** How long an instance is `provisioning` before it is `ready` with an ip. */
  bootMs: number;
  /** A new instance appears in the listing only this long after it was created (eventual consistency). */
  listingDelayMs: number;
  /** Added to the emulator's clock: moves the idempotency cache's 10 minutes forward in tests. */
  clockOffsetMs: number;
}

export const DEFAULT_CONFIG: FalConfig = { bootMs: 0, listingDelayMs: 0, clockOffsetMs: 0 };

export interface InstanceRecord {
  id: string;
  instance_type: string;
  region: string;
  sector?: string;
  status: (typeof STATUSES)[number];
  /** Forced through the control plane; sticks until deleted. */
  forced?: (typeof STATUSES)[number];
  sshKey: string;
  address: string;
  createdAt: number;
  readyAt: number;
  creator: string;
  machine?: SshMachine;
  starting?: Promise<void>;
}

interface CachedAnswer {
  at: number;
  bodyHash: string;
  status: number;
  body: unknown;
}

export interface FalStateOptions {
  config: FalConfig;
  sshPort: number;
  addresses: AddressPool;
}

export type FalState = ReturnType<typeof createFalState>;

export function createFalState(options: FalStateOptions) {
  const initial = structuredClone(options.config);
  let config = structuredClone(initial);
  let instances = new Map<string, InstanceRecord>();
  let cache = new Map<string, CachedAnswer>();
  const now = () => Date.now() + config.clockOffsetMs;

  async function stopMachine(rec: InstanceRecord): Promise<void> {
    await rec.starting;
    const machine = rec.machine;
    rec.machine = undefined;
    await machine?.close();
  }

  async function settle(): Promise<void> {
    const starts: Promise<void>[] = [];
    for (const rec of instances.values()) {
      if (rec.forced) rec.status = rec.forced;
      else if (rec.status === "provisioning" && now() >= rec.readyAt) {
        rec.status = "ready";
        rec.starting ??= startSshMachine({ host: rec.address, port: options.sshPort, user: FAL_SSH_USER, authorizedKeys: [rec.sshKey] }).then(
          async (machine) => {
            rec.starting = undefined;
            if (instances.get(rec.id) !== rec || rec.status !== "ready") return machine.close();
            rec.machine = machine;
          },
          () => {
            rec.starting = undefined;
            rec.status = "unknown";
          },
        );
        starts.push(rec.starting);
      }
    }
    await Promise.all(starts);
  }

  return {
    get config(): FalConfig {
      return config;
    },
    setConfig(next: FalConfig): void {
      config = next;
    },
    now,
    settle,
    instances: () => [...instances.values()],
    get: (id: string) => instances.get(id),
    /** Instances the listing shows now (a young one may not be listed yet). */
    listed: () => [...instances.values()].filter((rec) => now() - rec.createdAt >= config.listingDelayMs),

    /** The cached answer for a key, if fresh; the body must be byte-identical to be a replay. */
    cached(key: string): CachedAnswer | undefined {
      const hit = cache.get(key);
      if (hit && now() - hit.at < IDEMPOTENCY_TTL_MS) return hit;
      cache.delete(key);
      return undefined;
    },
    remember(key: string, rawBody: string, status: number, body: unknown): void {
      cache.set(key, { at: now(), bodyHash: hashOf(rawBody), status, body });
    },

    create(spec: { instance_type: string; ssh_key: string; sector?: string }): InstanceRecord {
      const t = now();
      const rec: InstanceRecord = {
        id: `inst_${randomBytes(9).toString("base64url").toLowerCase().replace(/[^a-z0-9]/g, "x")}`,
        instance_type: spec.instance_type,
        region: "us-east",
        sector: spec.sector,
        status: "provisioning",
        sshKey: spec.ssh_key,
        address: options.addresses.next(),
        createdAt: t,
        readyAt: t + config.bootMs,
        creator: "team-admin",
      };
      instances.set(rec.id, rec);
      return rec;
    },

    async remove(rec: InstanceRecord): Promise<void> {
      instances.delete(rec.id);
      await stopMachine(rec);
    },

    async force(rec: InstanceRecord, status: (typeof STATUSES)[number]): Promise<void> {
      rec.forced = status;
      rec.status = status;
      if (status !== "ready") await stopMachine(rec);
    },

    async reset(): Promise<void> {
      const all = [...instances.values()];
      instances = new Map();
      cache = new Map();
      config = structuredClone(initial);
      await Promise.all(all.map(stopMachine));
    },
  };
}

export function hashOf(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
