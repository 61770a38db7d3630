// Keeps a lease alive while something uses it: POST touch every min(idle timeout / 3, 60 s), so two
// touches can be lost before the idle deadline passes. Failures warn once; they do not end a session.
import type { Lease } from "../../src/contract/lease";
import type { ApiClient } from "./client";
import type { Output } from "./output";
import { TERMINAL_STATES } from "./wait";

export const MAX_TOUCH_INTERVAL_MS = 60_000;
const MIN_TOUCH_INTERVAL_MS = 1_000;

export function touchIntervalMs(idleTimeoutSeconds: number): number {
  return Math.max(MIN_TOUCH_INTERVAL_MS, Math.min((idleTimeoutSeconds * 1_000) / 3, MAX_TOUCH_INTERVAL_MS));
}

/** Starts touching now and every interval; the returned function stops it. */
export function keepAlive(client: ApiClient, lease: Lease, out: Output): () => void {
  let failing = false;
  let ended = false;
  const touch = async () => {
    try {
      const current = await client.touchLease(lease.id, {});
      if (TERMINAL_STATES.includes(current.state) && !ended) {
        ended = true;
        out.warn(`lease ${lease.slug} is ${current.state}${current.endReason ? ` (${current.endReason})` : ""}`);
      }
      if (failing) out.note(`crabbox: keep-alive of lease ${lease.slug} works again`);
      failing = false;
    } catch (error) {
      if (!failing) out.warn(`could not keep lease ${lease.slug} alive: ${error instanceof Error ? error.message : String(error)} (retrying)`);
      failing = true;
    }
  };
  void touch();
  const timer = setInterval(() => void touch(), touchIntervalMs(lease.idleTimeoutSeconds));
  return () => clearInterval(timer);
}
