// startCoderEmulator(): the Coder emulator on 127.0.0.1 (API under /api/v2 + /_emulator), the
// workspaces' shared SSH port, and the in-process handle tests use to drive it.
import { createFaultStore, createRequestLog, type FaultStore, type RequestLog, type RequestLogEntry } from "../faults.ts";
import { emulatorControls, emulatorHandle, serveEmulator } from "../kernel.ts";
import { addressPool, reservePort } from "../loopback.ts";
import { createCoderApp } from "./app.ts";
import { DEFAULT_CONFIG, createCoderState, type CoderConfig } from "./state.ts";
import { workspaceWire } from "./wire.ts";

/** Workspaces' SSH servers live on 127.13.a.b (b >= 2); 127.13.0.1 holds the shared port. */
const MACHINE_PREFIX = "127.13";
const PORT_HOLDER = "127.13.0.1";

export interface CoderEmulatorOptions extends Partial<CoderConfig> {
  port?: number;
  sshPort?: number;
  adminToken: string;
}

function mergeConfig(current: CoderConfig, patch: unknown): CoderConfig | string {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return "config must be an object";
  const next = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (key === "buildMs" || key === "agentMs") {
      if (typeof value !== "number" || value < 0) return `${key} must be a number >= 0`;
      next[key] = value;
    } else if (key === "failNextStart") {
      if (value !== null && typeof value !== "string") return "failNextStart must be null or a string";
      next.failNextStart = value;
    } else return `unknown config key: ${key}`;
  }
  return next;
}

export async function startCoderEmulator(options: CoderEmulatorOptions) {
  const { port = 0, sshPort, adminToken, ...overrides } = options;
  const initial = mergeConfig(DEFAULT_CONFIG, overrides);
  if (typeof initial === "string") throw new Error(`startCoderEmulator: ${initial}`);
  const reservation = await reservePort(PORT_HOLDER, sshPort ?? 0);
  const state = createCoderState({ config: initial, sshPort: reservation.port, addresses: addressPool(MACHINE_PREFIX) });
  const faults = createFaultStore();
  const log = createRequestLog();
  const { reset, configure } = emulatorControls({ faults, log, state, merge: mergeConfig });
  const snapshot = async (): Promise<{ workspaces: Record<string, unknown>[]; parameters: Record<string, Record<string, string>>; requests: RequestLogEntry[]; created: RequestLog["created"]; config: CoderConfig }> => {
    await state.settle();
    const all = state.all();
    // Each workspace's rich parameter values by id (Coder shows them per build; the state shows them here).
    const parameters = Object.fromEntries(all.map((ws) => [ws.id, ws.parameters]));
    return { workspaces: all.map(workspaceWire), parameters, requests: [...log.entries], created: [...log.created], config: { ...state.config } };
  };
  const app = createCoderApp({
    state,
    adminToken,
    sshPort: reservation.port,
    faults,
    log,
    control: { reset, state: snapshot, configure, faults, forceStatus: async () => "coder workspaces change only through builds" },
  });
  const served = await serveEmulator(app, port, reservation, () => state.reset());
  return emulatorHandle<CoderConfig, ReturnType<typeof snapshot>>(served, reservation.port, { faults, reset, state: snapshot, configure });
}

export type CoderEmulator = Awaited<ReturnType<typeof startCoderEmulator>>;
export type { FaultStore };
