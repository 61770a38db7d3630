// Waiting for a lease state with the API's long-poll: the server answers when the lease reaches
// the state (or a later one) or at its timeout with the current state, so the client loops.
import type { Lease, LeaseState } from "../../src/contract/lease";
import type { ApiClient } from "./client";
import { CliError, EXIT } from "./errors";

/** What the server holds a long-poll for at most (its cap is 30 s). */
export const LONG_POLL_S = 25;

/** The states that count as having reached `wanted` (the lifecycle is not a straight line: parked). */
const SATISFIES: Record<LeaseState, readonly LeaseState[]> = {
  requested: ["requested", "queued", "provisioning", "ready", "active", "parked", "releasing", "released", "failed"],
  queued: ["queued", "provisioning", "ready", "active", "parked", "releasing", "released", "failed"],
  provisioning: ["provisioning", "ready", "active", "parked", "releasing", "released", "failed"],
  ready: ["ready", "active"],
  active: ["active"],
  parked: ["parked"],
  releasing: ["releasing", "parked", "released", "failed"],
  released: ["released", "failed"],
  failed: ["failed"],
};

export const TERMINAL_STATES: readonly LeaseState[] = ["released", "failed"];
export const LIVE_ENDPOINT_STATES: readonly LeaseState[] = ["ready", "active"];

export function satisfies(state: LeaseState, wanted: LeaseState): boolean {
  return SATISFIES[wanted].includes(state);
}

/** True when waiting longer cannot help: the lease ended, or it is leaving while we wait for it to be usable. */
export function unreachable(state: LeaseState, wanted: LeaseState): boolean {
  if (satisfies(state, wanted)) return false;
  // Parked is stable too: only a resume or a release by someone moves it on.
  if (TERMINAL_STATES.includes(state) || state === "parked") return true;
  return (wanted === "ready" || wanted === "active") && state === "releasing";
}

export interface WaitOptions {
  timeoutMs: number;
  onUpdate?: (lease: Lease) => void;
}

/**
 * Polls until the lease satisfies `wanted` or cannot anymore; returns the last Lease seen either way
 * (the caller decides what an unreachable state means). Throws a timeout CliError at the deadline.
 */
export async function waitForState(client: ApiClient, idOrSlug: string, wanted: LeaseState, options: WaitOptions): Promise<Lease> {
  const deadline = Date.now() + options.timeoutMs;
  let lease = await client.getLease(idOrSlug);
  for (;;) {
    options.onUpdate?.(lease);
    if (satisfies(lease.state, wanted) || unreachable(lease.state, wanted)) return lease;
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) {
      throw new CliError(`lease ${lease.slug} is still ${lease.state} after ${Math.round(options.timeoutMs / 1000)}s (waited for ${wanted})`, {
        code: "timeout",
        exitCode: EXIT.timeout,
        details: { lease },
      });
    }
    const pollSeconds = Math.max(1, Math.min(LONG_POLL_S, Math.ceil(remainingMs / 1000)));
    lease = await client.getLease(lease.id, { state: wanted, timeoutSeconds: pollSeconds });
  }
}

export function leaseEndedError(lease: Lease, wanted: LeaseState): CliError {
  const why = lease.failure ? `: ${lease.failure.message} (${lease.failure.code})` : lease.endReason ? ` (${lease.endReason})` : "";
  return new CliError(`lease ${lease.slug} is ${lease.state}${why}; it will not become ${wanted}`, {
    code: lease.state === "failed" ? "lease_failed" : "invalid_state",
    exitCode: EXIT.lease,
    details: { lease },
  });
}
