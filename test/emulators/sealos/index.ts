// startSealosEmulator(): the Kubernetes API subset on 127.0.0.1 (plus /_emulator), the emulated
// SSHGate on its own port, and DevBox SSH servers on the node address (their ports are the
// NodePorts). The handle tests hold drives it in-process.
import { createFaultStore, createRequestLog, type RequestLog, type RequestLogEntry } from "../faults.ts";
import { emulatorControls, emulatorHandle, serveEmulator } from "../kernel.ts";
import { createSealosApp } from "./app.ts";
import { startGateway } from "./gateway.ts";
import { loadDevboxSchema, withoutPaused } from "./schema.ts";
import { DEFAULT_CONFIG, createSealosState, type SealosConfig } from "./state.ts";

/** 127.14.0.1 holds the gateway; DevBoxes listen on the "node" 127.14.0.2, one port each. */
const GATEWAY_HOST = "127.14.0.1";
export const NODE_HOST = "127.14.0.2";

export interface SealosEmulatorOptions extends Partial<SealosConfig> {
  port?: number;
  gatewayPort?: number;
  /** Bearer token → its namespace. */
  tokens: Record<string, string>;
}

const NUMBERS = ["bootMs", "stopMs", "finalizeMs"] as const;
const FLAGS = ["pausedSupported", "secretsAllowed", "secretListAllowed", "garbageCollect"] as const;

function mergeConfig(current: SealosConfig, patch: unknown): SealosConfig | string {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return "config must be an object";
  const next = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if ((NUMBERS as readonly string[]).includes(key)) {
      if (typeof value !== "number" || value < 0) return `${key} must be a number >= 0`;
      next[key as (typeof NUMBERS)[number]] = value;
    } else if ((FLAGS as readonly string[]).includes(key)) {
      if (typeof value !== "boolean") return `${key} must be a boolean`;
      next[key as (typeof FLAGS)[number]] = value;
    } else return `unknown config key: ${key}`;
  }
  return next;
}

/** forceStatus: a commit in progress or done (the CRD's rule), or the controller's Error phase. */
const FORCEABLE = ["Committing", "Success", "Error"] as const;

export async function startSealosEmulator(options: SealosEmulatorOptions) {
  const { port = 0, gatewayPort, tokens, ...overrides } = options;
  const initial = mergeConfig(DEFAULT_CONFIG, overrides);
  if (typeof initial === "string") throw new Error(`startSealosEmulator: ${initial}`);
  const { schema, source } = loadDevboxSchema();
  const state = createSealosState({ config: initial, nodeHost: NODE_HOST });
  const gateway = await startGateway({ state, host: GATEWAY_HOST, port: gatewayPort ?? 0 });
  const faults = createFaultStore();
  const log = createRequestLog();
  const { reset, configure } = emulatorControls({ faults, log, state, merge: mergeConfig });
  const snapshot = async (): Promise<{ devboxes: Record<string, unknown>[]; secrets: Record<string, unknown>[]; requests: RequestLogEntry[]; created: RequestLog["created"]; config: SealosConfig; schema: string; gatewaySessions: number }> => {
    await state.settle();
    return {
      devboxes: state.devboxes().map((r) => ({ ...r.object, running: Boolean(r.machine) })),
      // Secret values stay in the cluster: the snapshot shows which keys a Secret holds.
      secrets: state.secrets().map((s) => ({ metadata: s.metadata, keys: Object.keys((s.data ?? {}) as object).sort() })),
      requests: [...log.entries], created: [...log.created],
      config: { ...state.config },
      schema: source,
      gatewaySessions: gateway.sessions(),
    };
  };
  const forceStatus = async (id: string, status: unknown): Promise<string | undefined> => {
    if (!(FORCEABLE as readonly unknown[]).includes(status)) return `status must be one of ${FORCEABLE.join(", ")}`;
    const rec = state.devboxes().find((r) => r.object.metadata.uid === id || r.object.metadata.name === id);
    if (!rec?.object.status) return "not_found";
    const s = rec.object.status as { contentID: string; commitRecords: Record<string, { commitStatus: string }>; phase?: string };
    if (status === "Error") s.phase = "Error";
    else s.commitRecords[s.contentID]!.commitStatus = status as string;
    state.bump(rec.object.metadata);
    return undefined;
  };
  const app = createSealosApp({ state, tokens, schema: () => (state.config.pausedSupported ? schema : withoutPaused(schema)), faults, log, control: { reset, state: snapshot, configure, faults, forceStatus } });
  const gatewayReservation = { port: gateway.port, release: () => gateway.close() };
  const served = await serveEmulator(app, port, gatewayReservation, () => state.reset());
  return { ...emulatorHandle<SealosConfig, ReturnType<typeof snapshot>>(served, gateway.port, { faults, reset, state: snapshot, configure }), gatewayHost: GATEWAY_HOST, nodeHost: NODE_HOST, schemaSource: source };
}

export type SealosEmulator = Awaited<ReturnType<typeof startSealosEmulator>>;
