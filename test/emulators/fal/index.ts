// startFalEmulator(): the fal Compute emulator on 127.0.0.1 (API under /v1 + /_emulator control
// plane), its machines' shared SSH port, and the in-process handle tests use to drive it.
import { createFaultStore, createRequestLog, type FaultStore, type RequestLog, type RequestLogEntry } from "../faults.ts";
import { emulatorControls, emulatorHandle, forceStatusOf, serveEmulator } from "../kernel.ts";
import { addressPool, reservePort } from "../loopback.ts";
import { createFalApp } from "./app.ts";
import { DEFAULT_CONFIG, STATUSES, createFalState, type FalConfig } from "./state.ts";
import { instanceWire } from "./wire.ts";

/** fal machines live on 127.12.a.b (b >= 2); 127.12.0.1 holds the shared SSH port. */
const MACHINE_PREFIX = "127.12";
const PORT_HOLDER = "127.12.0.1";

export interface FalEmulatorOptions extends Partial<FalConfig> {
  port?: number;
  sshPort?: number;
  apiKey: string;
}

export interface FalEmulator {
  url: string;
  /** url + "/v1": what FAL_BASE_URL points at. */
  apiBase: string;
  port: number;
  sshPort: number;
  faults: FaultStore;
  reset(): Promise<void>;
  state(): Promise<{ instances: Record<string, unknown>[]; requests: RequestLogEntry[]; created: RequestLog["created"]; config: FalConfig }>;
  configure(partial: Partial<FalConfig>): void;
  close(): Promise<void>;
}

function mergeConfig(current: FalConfig, patch: unknown): FalConfig | string {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return "config must be an object";
  const next = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_CONFIG)) return `unknown config key: ${key}`;
    if (typeof value !== "number" || !Number.isFinite(value) || (key !== "clockOffsetMs" && value < 0)) return `${key} must be a number${key === "clockOffsetMs" ? "" : " >= 0"}`;
    next[key as keyof FalConfig] = value;
  }
  return next;
}

export async function startFalEmulator(options: FalEmulatorOptions): Promise<FalEmulator> {
  const { port = 0, sshPort, apiKey, ...overrides } = options;
  const initial = mergeConfig(DEFAULT_CONFIG, overrides);
  if (typeof initial === "string") throw new Error(`startFalEmulator: ${initial}`);
  const reservation = await reservePort(PORT_HOLDER, sshPort ?? 0);
  const state = createFalState({ config: initial, sshPort: reservation.port, addresses: addressPool(MACHINE_PREFIX) });
  const faults = createFaultStore();
  const log = createRequestLog();
  const { reset, configure } = emulatorControls({ faults, log, state, merge: mergeConfig });
  const snapshot = async () => {
    await state.settle();
    return { instances: state.instances().map(instanceWire), requests: [...log.entries], created: [...log.created], config: { ...state.config } };
  };
  const app = createFalApp({
    state,
    apiKey,
    faults,
    log,
    control: {
      reset,
      state: snapshot,
      configure,
      faults,
      forceStatus: forceStatusOf(STATUSES, (id) => state.get(id), (rec, status) => state.force(rec, status)),
    },
  });
  const served = await serveEmulator(app, port, reservation, () => state.reset());
  return { ...emulatorHandle<FalConfig, ReturnType<typeof snapshot>>(served, reservation.port, { faults, reset, state: snapshot, configure }), apiBase: `${served.url}/v1` };
}
