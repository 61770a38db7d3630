// What every emulator's start function shares (CONTROL.md): reset and configure over its state,
// and serving its app on loopback with the SSH port reservation released on close.
import type { FaultStore, RequestLog } from "./faults.ts";
import { LOOPBACK, serveApp, type FetchApp } from "./http.ts";
import type { PortReservation } from "./loopback.ts";

interface ResettableState<C> {
  readonly config: C;
  setConfig(next: C): void;
  reset(): Promise<void>;
}

/** reset(): faults, log and state; configure(): merge a patch, or answer why it is refused. */
export function emulatorControls<C>(options: { faults: FaultStore; log: RequestLog; state: ResettableState<C>; merge: (current: C, patch: unknown) => C | string }) {
  const { faults, log, state, merge } = options;
  return {
    async reset(): Promise<void> {
      faults.clear();
      log.clear();
      await state.reset();
    },
    configure(patch: unknown): string | undefined {
      const next = merge(state.config, patch);
      if (typeof next === "string") return next;
      state.setConfig(next);
      return undefined;
    },
  };
}

/** Serves `app` on 127.0.0.1; close() stops the server, the state (machines) and the reservation, once. */
export async function serveEmulator(app: FetchApp, port: number, reservation: PortReservation, resetState: () => Promise<void>) {
  let served;
  try {
    served = await serveApp(app, port);
  } catch (err) {
    await reservation.release();
    throw err;
  }
  const server = served;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${LOOPBACK}:${server.port}`,
    port: server.port,
    close(): Promise<void> {
      closing ??= (async () => {
        await server.close();
        await resetState();
        await reservation.release();
      })();
      return closing;
    },
  };
}

/** The control plane's forceStatus: one of `allowed`, on a resource that exists. */
export function forceStatusOf<R, S extends string>(allowed: readonly S[], lookup: (id: string) => R | undefined, force: (rec: R, status: S) => Promise<void>) {
  return async (id: string, status: unknown): Promise<string | undefined> => {
    if (!(allowed as readonly unknown[]).includes(status)) return `status must be one of ${allowed.join(", ")}`;
    const rec = lookup(id);
    if (!rec) return "not_found";
    await force(rec, status as S);
    return undefined;
  };
}

/** The in-process handle tests hold: configure() throws where the control plane answers 400. */
export function emulatorHandle<C, St>(served: { url: string; port: number; close(): Promise<void> }, sshPort: number, parts: {
  faults: FaultStore;
  reset(): Promise<void>;
  state(): St;
  configure(patch: unknown): string | undefined;
}) {
  return {
    url: served.url,
    port: served.port,
    sshPort,
    faults: parts.faults,
    reset: parts.reset,
    state: parts.state,
    configure(partial: Partial<C>): void {
      const problem = parts.configure(partial);
      if (problem) throw new Error(`configure: ${problem}`);
    },
    close: served.close,
  };
}
