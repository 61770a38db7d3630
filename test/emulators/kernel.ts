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
