// startLambdaEmulator(): the Lambda Cloud emulator on 127.0.0.1 (API + /_emulator control
// plane), its machines' shared SSH port, and the in-process handle tests use to drive it.
import { createFaultStore, createRequestLog, type FaultStore, type RequestLog, type RequestLogEntry } from "../faults.ts";
import { emulatorControls, serveEmulator } from "../kernel.ts";
import { addressPool, reservePort } from "../loopback.ts";
import { createLambdaApp, API_PREFIX } from "./app.ts";
import { INSTANCE_TYPES, REGIONS, type CapacityTable } from "./catalog.ts";
import {
  DEFAULT_CONFIG, INSTANCE_STATUSES, cloneConfig, createLambdaState, type InstanceStatus, type LambdaConfig,
} from "./state.ts";
import { instanceWire, sshKeyWire, type InstanceWire } from "./wire.ts";

/** Lambda machines live on 127.10.a.b (b >= 2); 127.10.0.1 holds the shared SSH port. */
const MACHINE_PREFIX = "127.10";
const PORT_HOLDER = "127.10.0.1";

export interface LambdaEmulatorOptions extends Partial<LambdaConfig> {
  /** HTTP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** SSH port every machine listens on; default: a free port picked at start. */
  sshPort?: number;
  /** The one API key the emulated account accepts. */
  apiKey: string;
}

export interface LambdaEmulatorState {
  instances: InstanceWire[];
  sshKeys: { id: string; name: string; public_key: string }[];
  requests: RequestLogEntry[];
  created: RequestLog["created"];
  /** Each instance's SSH address; `listening` only while it is active (or unhealthy). */
  machines: { id: string; host: string; port: number; listening: boolean; activeAt?: number; terminatedAt?: number; connections: number; userData?: string }[];
  config: LambdaConfig;
}

export interface LambdaEmulator {
  /** http://127.0.0.1:PORT */
  url: string;
  /** url + "/api/v1": what LAMBDA_BASE_URL points at. */
  apiBase: string;
  port: number;
  sshPort: number;
  faults: FaultStore;
  reset(): Promise<void>;
  /**
   * A snapshot, without settling due boots: right after a launch with bootMs 0 it may still read
   * `booting` for a moment (GET /_emulator/state and every API read settle first).
   */
  state(): LambdaEmulatorState;
  /** Merge settings (same body as POST /_emulator/config); throws on invalid input. */
  configure(partial: Partial<LambdaConfig>): void;
  close(): Promise<void>;
}

const DURATION_KEYS = ["bootMs", "terminateMs", "terminatedRetentionMs", "launchIntervalMs"] as const;

/** Merge a config patch; a reason string when it is invalid (then nothing changes). */
function mergeConfig(current: LambdaConfig, patch: unknown): LambdaConfig | string {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return "config must be an object";
  const next = cloneConfig(current);
  for (const [key, value] of Object.entries(patch)) {
    // An option passed as undefined keeps its current value (e.g. a CLI flag that was not given).
    if (value === undefined) continue;
    if ((DURATION_KEYS as readonly string[]).includes(key)) {
      if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) return `${key} must be a number >= 0`;
      next[key as (typeof DURATION_KEYS)[number]] = value;
    } else if (key === "quota" || key === "launchesPerMinute") {
      if (value !== null && !(Number.isInteger(value) && value >= 0)) return `${key} must be null or an integer >= 0`;
      next[key] = value;
    } else if (key === "requestsPerSecond") {
      if (value !== null && !(typeof value === "number" && value > 0 && Number.isFinite(value))) return "requestsPerSecond must be null or a number > 0";
      next.requestsPerSecond = value;
    } else if (key === "requestBurst") {
      if (!(Number.isInteger(value) && value >= 1)) return "requestBurst must be an integer >= 1";
      next.requestBurst = value;
    } else if (key === "capacity") {
      const problem = mergeCapacity(next.capacity, value);
      if (problem) return problem;
    } else {
      return `unknown config key: ${key}`;
    }
  }
  return next;
}

function mergeCapacity(table: CapacityTable, patch: unknown): string | undefined {
  if (typeof patch !== "object" || patch === null) return "capacity must be {region: {type: count}}";
  for (const [region, types] of Object.entries(patch)) {
    if (!(region in REGIONS)) return `unknown region in capacity: ${region}`;
    if (typeof types !== "object" || types === null) return `capacity.${region} must be {type: count}`;
    for (const [type, count] of Object.entries(types)) {
      if (!INSTANCE_TYPES.some((t) => t.name === type)) return `unknown instance type in capacity: ${type}`;
      if (typeof count !== "number" || !Number.isInteger(count) || count < 0) {
        return `capacity.${region}.${type} must be an integer >= 0`;
      }
      (table[region] ??= {})[type] = count;
    }
  }
  return undefined;
}

export async function startLambdaEmulator(options: LambdaEmulatorOptions): Promise<LambdaEmulator> {
  const { port = 0, sshPort, apiKey, ...overrides } = options;
  const initial = mergeConfig(DEFAULT_CONFIG, overrides);
  if (typeof initial === "string") throw new Error(`startLambdaEmulator: ${initial}`);
  const reservation = await reservePort(PORT_HOLDER, sshPort ?? 0);
  const state = createLambdaState({ config: initial, sshPort: reservation.port, addresses: addressPool(MACHINE_PREFIX) });
  const faults = createFaultStore();
  const log = createRequestLog();

  const snapshot = (): LambdaEmulatorState => ({
    instances: state.visible().map(({ rec, status }) => instanceWire(rec, status)),
    sshKeys: state.keys().map(sshKeyWire),
    requests: [...log.entries], created: [...log.created],
    machines: state.machines(),
    config: cloneConfig(state.config),
  });
  const { reset, configure } = emulatorControls({ faults, log, state, merge: mergeConfig });

  const app = createLambdaApp({
    state,
    apiKey,
    faults,
    log,
    control: {
      reset,
      async state() {
        await state.settle();
        return snapshot();
      },
      configure,
      faults,
      async forceStatus(id, status) {
        if (!INSTANCE_STATUSES.includes(status as InstanceStatus)) {
          return `status must be one of ${INSTANCE_STATUSES.join(", ")}`;
        }
        const found = state.lookup(id);
        if (!found) return "not_found";
        try {
          await state.force(found.rec, status as InstanceStatus);
          return undefined;
        } catch (err) {
          return (err as Error).message;
        }
      },
    },
  });

  const served = await serveEmulator(app, port, reservation, () => state.reset());
  const url = served.url;
  return {
    url,
    apiBase: url + API_PREFIX,
    port: served.port,
    sshPort: reservation.port,
    faults,
    reset,
    state: snapshot,
    configure(partial) {
      const problem = configure(partial);
      if (problem) throw new Error(`configure: ${problem}`);
    },
    close: served.close,
  };
}
