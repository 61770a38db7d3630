// The Lambda emulator's in-memory account: SSH keys, instances and their lifecycle
// (booting → active → terminating → terminated → gone), the capacity table, and the real SSH
// server each active instance runs on its own 127.10.x.y address.
import { randomBytes, randomUUID } from "node:crypto";
import { startSshMachine, type SshMachine } from "../ssh-machine.ts";
import type { AddressPool } from "../loopback.ts";
import { DEFAULT_CAPACITY, type CapacityTable } from "./catalog.ts";
import type { Tag } from "./validate.ts";

export const LAMBDA_SSH_USER = "ubuntu";

export type InstanceStatus = "booting" | "active" | "unhealthy" | "terminating" | "terminated" | "preempted";
export const INSTANCE_STATUSES: readonly InstanceStatus[] = ["booting", "active", "unhealthy", "terminating", "terminated", "preempted"];

export interface LambdaConfig {
  /** How long a launched instance stays `booting` (0: active at the next read). */
  bootMs: number;
  /** How long a terminated instance stays `terminating`. */
  terminateMs: number;
  /** How long it is then still listed as `terminated` before answering 404. */
  terminatedRetentionMs: number;
  /** At most one launch per interval; the real API allows one per 12 s (0: no interval). */
  launchIntervalMs: number;
  /**
   * At most this many launches in any 60 s (the docs' other wording, "five per minute");
   * null: no such window. Both launch rules apply when both are set.
   */
  launchesPerMinute: number | null;
  /**
   * The general account limit, "about 1 request/s": a token bucket refilled at this rate, of
   * `requestBurst` tokens, in front of every API route. null: off.
   * ASSUMPTION: Lambda does not document the burst; 5 is the emulator's choice.
   */
  requestsPerSecond: number | null;
  requestBurst: number;
  /** Free machines per region and type (the current count, changed by launch/terminate). */
  capacity: CapacityTable;
  /** Most live instances the account may hold (global/quota-exceeded beyond); null = no limit. */
  quota: number | null;
}

export const DEFAULT_CONFIG: LambdaConfig = {
  bootMs: 0,
  terminateMs: 0,
  terminatedRetentionMs: 0,
  launchIntervalMs: 12_000,
  launchesPerMinute: null,
  requestsPerSecond: null,
  requestBurst: 5,
  capacity: DEFAULT_CAPACITY,
  quota: null,
};

export interface SshKeyRecord {
  id: string;
  name: string;
  publicKey: string;
}

export interface InstanceRecord {
  id: string;
  name?: string;
  hostname?: string;
  region: string;
  typeName: string;
  sshKeyName: string;
  /** The key as registered at launch: deleting the key object later does not reach the machine. */
  authorizedKey: string;
  /** What the launch sent as `user_data` (run at boot; readable through the control plane). */
  userData?: string;
  tags: Tag[];
  /** Loopback address its SSH server listens on; published as `ip` once active. */
  address: string;
  privateIp: string;
  jupyterToken: string;
  ip?: string;
  bootDueAt: number;
  /** A status forced through the control plane; sticks until the instance is terminated. */
  forced?: InstanceStatus;
  terminatedAt?: number;
  holdsCapacity: boolean;
  machine?: SshMachine;
  starting?: Promise<void>;
  bootTimer?: ReturnType<typeof setTimeout>;
  /** The SSH server could not start; reported as `unhealthy`. */
  failed?: boolean;
  /** Date.now() when it first read `active`: lets `npm run bench` measure detection lag. */
  activeAt?: number;
}

export function hexId(): string {
  return randomUUID().replaceAll("-", "");
}

export function cloneConfig(config: LambdaConfig): LambdaConfig {
  return { ...config, capacity: structuredClone(config.capacity) };
}

export interface LambdaStateOptions {
  config: LambdaConfig;
  sshPort: number;
  addresses: AddressPool;
  now?: () => number;
}

export type LambdaState = ReturnType<typeof createLambdaState>;

export function createLambdaState(options: LambdaStateOptions) {
  const now = options.now ?? Date.now;
  const defaults = cloneConfig(options.config);
  let config = cloneConfig(defaults);
  let instances = new Map<string, InstanceRecord>();
  let sshKeys = new Map<string, SshKeyRecord>();
  let lastLaunchAt = Number.NEGATIVE_INFINITY;
  let launchTimes: number[] = [];
  let bucket = { tokens: Number.POSITIVE_INFINITY, at: 0 };
  let privateCounter = 0;

  /** `gone` once it has been terminated for terminateMs + terminatedRetentionMs. */
  function statusOf(rec: InstanceRecord): InstanceStatus | "gone" {
    if (rec.terminatedAt !== undefined) {
      const since = now() - rec.terminatedAt;
      if (since < config.terminateMs) return "terminating";
      if (since < config.terminateMs + config.terminatedRetentionMs) return "terminated";
      return "gone";
    }
    if (rec.forced) return rec.forced;
    if (rec.failed) return "unhealthy";
    return rec.machine ? "active" : "booting";
  }

  /** Live and recently terminated instances, dropping the ones that are gone for good. */
  function visible(): { rec: InstanceRecord; status: InstanceStatus }[] {
    const out: { rec: InstanceRecord; status: InstanceStatus }[] = [];
    for (const rec of instances.values()) {
      const status = statusOf(rec);
      if (status === "gone") instances.delete(rec.id);
      else out.push({ rec, status });
    }
    return out;
  }

  function releaseCapacity(rec: InstanceRecord): void {
    if (!rec.holdsCapacity) return;
    rec.holdsCapacity = false;
    const region = (config.capacity[rec.region] ??= {});
    region[rec.typeName] = (region[rec.typeName] ?? 0) + 1;
  }

  /** Start the machine's SSH server; the instance reads `active` only once it listens. */
  function activate(rec: InstanceRecord): Promise<void> {
    if (rec.machine || rec.terminatedAt !== undefined || rec.failed) return Promise.resolve();
    rec.starting ??= startSshMachine({
      host: rec.address,
      port: options.sshPort,
      user: LAMBDA_SSH_USER,
      authorizedKeys: [rec.authorizedKey],
      bootScript: rec.userData,
    }).then(
      async (machine) => {
        rec.starting = undefined;
        // Terminated (or reset) while the server was starting: it must not stay up.
        if (rec.terminatedAt !== undefined || instances.get(rec.id) !== rec) return machine.close();
        rec.machine = machine;
        rec.ip = rec.address;
        rec.activeAt ??= now();
      },
      (err: Error) => {
        rec.starting = undefined;
        rec.failed = true;
        console.error(`[lambda-emulator] instance ${rec.id}: SSH server failed to start: ${err.message}`);
      },
    );
    return rec.starting;
  }

  async function stopMachine(rec: InstanceRecord): Promise<void> {
    clearTimeout(rec.bootTimer);
    await rec.starting;
    const machine = rec.machine;
    rec.machine = undefined;
    await machine?.close();
  }

  /** Stops the SSH server at once (the machine is going away) and returns the capacity. */
  async function terminate(rec: InstanceRecord, at = now()): Promise<void> {
    if (rec.terminatedAt !== undefined) return;
    rec.terminatedAt = at;
    releaseCapacity(rec);
    await stopMachine(rec);
  }

  return {
    get config(): LambdaConfig {
      return config;
    },
    setConfig(next: LambdaConfig): void {
      config = next;
    },
    statusOf,
    visible,

    /** Bring every instance whose boot time has passed to `active` before a read answers. */
    async settle(): Promise<void> {
      const due = visible().filter(({ rec }) => !rec.forced && !rec.machine && now() >= rec.bootDueAt);
      await Promise.all(due.map(({ rec }) => activate(rec)));
    },

    /** Claims the launch slot when free; false means the request is throttled. */
    takeLaunchSlot(): boolean {
      const t = now();
      if (t - lastLaunchAt < config.launchIntervalMs) return false;
      launchTimes = launchTimes.filter((at) => t - at < 60_000);
      if (config.launchesPerMinute !== null && launchTimes.length >= config.launchesPerMinute) return false;
      lastLaunchAt = t;
      launchTimes.push(t);
      return true;
    },

    /** One token of the general account limit, or false (the caller answers 429). */
    takeRequestToken(): boolean {
      if (config.requestsPerSecond === null) return true;
      const t = now();
      const capacity = Math.max(1, config.requestBurst);
      const refilled = Math.min(capacity, (Number.isFinite(bucket.tokens) ? bucket.tokens : capacity) + ((t - bucket.at) / 1000) * config.requestsPerSecond);
      if (refilled < 1) {
        bucket = { tokens: refilled, at: t };
        return false;
      }
      bucket = { tokens: refilled - 1, at: t };
      return true;
    },

    liveCount(): number {
      return visible().filter(({ rec }) => rec.terminatedAt === undefined).length;
    },

    launch(spec: Pick<InstanceRecord, "name" | "hostname" | "region" | "typeName" | "sshKeyName" | "authorizedKey" | "tags" | "userData">): InstanceRecord {
      const region = (config.capacity[spec.region] ??= {});
      region[spec.typeName] = (region[spec.typeName] ?? 0) - 1;
      privateCounter++;
      const rec: InstanceRecord = {
        ...spec,
        id: hexId(),
        address: options.addresses.next(),
        privateIp: `10.19.${Math.floor(privateCounter / 250) % 250}.${(privateCounter % 250) + 2}`,
        jupyterToken: randomBytes(16).toString("hex"),
        bootDueAt: now() + config.bootMs,
        holdsCapacity: true,
      };
      instances.set(rec.id, rec);
      rec.bootTimer = setTimeout(() => void activate(rec), config.bootMs);
      rec.bootTimer.unref();
      return rec;
    },

    terminate,

    async force(rec: InstanceRecord, status: InstanceStatus): Promise<void> {
      if (status === "terminating") return terminate(rec);
      if (status === "terminated") return terminate(rec, now() - config.terminateMs);
      if (rec.terminatedAt !== undefined) throw new Error("instance is already terminated");
      rec.failed = false;
      if (status === "active") {
        rec.forced = undefined;
        return activate(rec);
      }
      rec.forced = status;
      if (status === "booting" || status === "preempted") await stopMachine(rec);
      if (status === "preempted") releaseCapacity(rec);
    },

    /** An instance the API still shows, with its status; undefined once gone (404). */
    lookup(id: string): { rec: InstanceRecord; status: InstanceStatus } | undefined {
      const rec = instances.get(id);
      const status = rec && statusOf(rec);
      return rec && status && status !== "gone" ? { rec, status } : undefined;
    },

    keys(): SshKeyRecord[] {
      return [...sshKeys.values()];
    },
    keyByName(name: string): SshKeyRecord | undefined {
      return [...sshKeys.values()].find((k) => k.name === name);
    },
    addKey(key: SshKeyRecord): void {
      sshKeys.set(key.id, key);
    },
    deleteKey(id: string): boolean {
      return sshKeys.delete(id);
    },

    /** Where each instance's SSH server is (or will be) and whether it listens right now. */
    machines(): { id: string; host: string; port: number; listening: boolean; activeAt?: number; terminatedAt?: number; connections: number; userData?: string }[] {
      return visible().map(({ rec }) => ({
        id: rec.id,
        host: rec.address,
        port: options.sshPort,
        listening: rec.machine !== undefined,
        activeAt: rec.activeAt,
        terminatedAt: rec.terminatedAt,
        connections: rec.machine?.connectionsAccepted() ?? 0,
        userData: rec.userData,
      }));
    },

    /** Forget everything and stop every SSH server; the configuration returns to its defaults. */
    async reset(): Promise<void> {
      const all = [...instances.values()];
      instances = new Map();
      sshKeys = new Map();
      lastLaunchAt = Number.NEGATIVE_INFINITY;
      launchTimes = [];
      bucket = { tokens: Number.POSITIVE_INFINITY, at: 0 };
      config = cloneConfig(defaults);
      await Promise.all(all.map(stopMachine));
    },
  };
}
