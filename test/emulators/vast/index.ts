// startVastEmulator(): the Vast.ai emulator on 127.0.0.1 (API + /_emulator control plane), its
// machines' shared SSH port, and the in-process handle tests use to drive it.
import { createFaultStore, createRequestLog, type FaultStore, type RequestLog, type RequestLogEntry } from "../faults.ts";
import { emulatorControls, emulatorHandle, forceStatusOf, serveEmulator } from "../kernel.ts";
import { addressPool, reservePort } from "../loopback.ts";
import { createVastApp } from "./app.ts";
import { DEFAULT_CONFIG, FORCEABLE, createVastState, type OfferRecord, type VastConfig } from "./state.ts";
import { instanceWire } from "./wire.ts";

/** Vast machines live on 127.11.a.b (b >= 2); 127.11.0.1 holds the shared SSH port. */
const MACHINE_PREFIX = "127.11";
const PORT_HOLDER = "127.11.0.1";

export interface VastEmulatorOptions extends Partial<VastConfig> {
  port?: number;
  sshPort?: number;
  apiKey: string;
}

export interface VastEmulatorState {
  instances: Record<string, unknown>[];
  /** Per instance: its attached keys (account key copies included). */
  keys: { instanceId: number; publicKeys: string[] }[];
  offers: { available: OfferRecord[] };
  requests: RequestLogEntry[];
  created: RequestLog["created"];
  machines: { id: number; host: string; port: number; listening: boolean }[];
  config: VastConfig;
}

export interface VastEmulator {
  url: string;
  port: number;
  sshPort: number;
  faults: FaultStore;
  reset(): Promise<void>;
  state(): Promise<VastEmulatorState>;
  configure(partial: Partial<VastConfig>): void;
  close(): Promise<void>;
}

const DURATIONS = ["provisionMs", "bootMs"] as const;

function mergeConfig(current: VastConfig, patch: unknown): VastConfig | string {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return "config must be an object";
  const next = structuredClone(current);
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if ((DURATIONS as readonly string[]).includes(key)) {
      if (typeof value !== "number" || !(value >= 0)) return `${key} must be a number >= 0`;
      next[key as (typeof DURATIONS)[number]] = value;
    } else if (key === "endpointIntervalMs") {
      if (value !== null && !(typeof value === "number" && value >= 0)) return "endpointIntervalMs must be null or a number >= 0";
      next.endpointIntervalMs = value;
    } else if (key === "accountKey") {
      if (value !== null && (typeof value !== "string" || !value.startsWith("ssh-"))) return "accountKey must be null or an OpenSSH public key";
      next.accountKey = value;
    } else if (key === "offers") {
      if (!Array.isArray(value) || value.some((o) => typeof o?.id !== "number" || typeof o?.gpu_name !== "string")) return "offers must be an array of offers";
      next.offers = value as OfferRecord[];
    } else {
      return `unknown config key: ${key}`;
    }
  }
  return next;
}

export async function startVastEmulator(options: VastEmulatorOptions): Promise<VastEmulator> {
  const { port = 0, sshPort, apiKey, ...overrides } = options;
  const initial = mergeConfig(DEFAULT_CONFIG, overrides);
  if (typeof initial === "string") throw new Error(`startVastEmulator: ${initial}`);
  const reservation = await reservePort(PORT_HOLDER, sshPort ?? 0);
  const state = createVastState({ config: initial, sshPort: reservation.port, addresses: addressPool(MACHINE_PREFIX) });
  const faults = createFaultStore();
  const log = createRequestLog();

  const snapshot = async (): Promise<VastEmulatorState> => {
    await state.settle();
    const all = state.instances();
    return {
      instances: all.map((rec) => instanceWire(rec, reservation.port)),
      keys: all.map((rec) => ({ instanceId: rec.id, publicKeys: rec.keys.map((k) => k.public_key) })),
      offers: { available: state.availableOffers() },
      requests: [...log.entries], created: [...log.created],
      machines: all.map((rec) => ({ id: rec.id, host: rec.address, port: reservation.port, listening: rec.machine !== undefined })),
      config: structuredClone(state.config),
    };
  };
  const { reset, configure } = emulatorControls({ faults, log, state, merge: mergeConfig });

  const app = createVastApp({
    state,
    apiKey,
    sshPort: reservation.port,
    faults,
    log,
    control: {
      reset,
      state: snapshot,
      configure,
      faults,
      forceStatus: forceStatusOf(FORCEABLE, (id) => state.get(Number(id)), (rec, status) => state.force(rec, status)),
    },
  });

  const served = await serveEmulator(app, port, reservation, () => state.reset());
  return emulatorHandle<VastConfig, Promise<VastEmulatorState>>(served, reservation.port, { faults, reset, state: snapshot, configure });
}
