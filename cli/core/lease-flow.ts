// The steps acquire, resume and ssh share: wait until the lease is ready, prove the machine takes
// the lease key over SSH (recording its host key), then acknowledge; and abandoning a lease.
import type { Lease } from "../../src/contract/lease";
import type { Context } from "./command";
import { CliError, EXIT } from "./errors";
import type { Progress } from "./output";
import { probeSsh } from "./ssh";
import { TERMINAL_STATES, leaseEndedError, satisfies, waitForState } from "./wait";

/** After Ctrl-C, how long we wait to see the release confirmed before leaving it to the server. */
export const RELEASE_CONFIRM_MS = 60_000;

export interface BringUpOptions {
  /** How long to wait for the lease to become ready. */
  timeoutMs: number;
  /** How long to keep trying SSH once it is ready. */
  sshWaitMs?: number;
}

export async function bringUp(ctx: Context, lease: Lease, progress: Progress, options: BringUpOptions): Promise<Lease> {
  const client = ctx.client();
  let current = await waitForState(client, lease.id, "ready", {
    timeoutMs: options.timeoutMs,
    onUpdate: (update) => progress.update(`Lease ${update.slug} is ${update.state}: waiting for the machine…`),
  });
  if (!satisfies(current.state, "ready")) throw leaseEndedError(current, "ready");
  if (!current.endpoint) {
    throw new CliError(`the coordinator reported lease ${current.slug} ${current.state} without an endpoint`, {
      code: "unexpected_response",
      exitCode: EXIT.bug,
    });
  }
  if (!ctx.store.hasKeys(current.id)) throw noLocalKey(current);
  progress.update(`Lease ${current.slug} is ready: connecting over SSH to ${current.endpoint.host}…`);
  await probeSsh(current.endpoint, ctx.store.paths(current.id), { windowMs: options.sshWaitMs, signal: ctx.signal });
  if (current.state === "ready") {
    progress.update(`Lease ${current.slug}: connected, acknowledging…`);
    current = await client.ackLease(current.id);
  }
  ctx.store.saveRecord(current);
  return current;
}

export function noLocalKey(lease: Lease): CliError {
  return new CliError(`the key of lease ${lease.slug} is not on this machine (was it acquired elsewhere?)`, {
    code: "no_local_key",
    exitCode: EXIT.usage,
  });
}

/**
 * Releases a lease the user will not get (Ctrl-C, timeout, SSH failure): destroys it, waits a while
 * for the release to be confirmed and only then removes its keys. Never throws: the server's ack
 * deadline is the backstop, so a failure here is a warning.
 */
export async function abandon(ctx: Context, id: string, progress: Progress): Promise<void> {
  const client = ctx.client({ signal: null }); // the first Ctrl-C aborted ctx.signal; a second one exits
  const slug = ctx.store.readRecord(id)?.slug ?? id;
  try {
    progress.update(`Releasing lease ${slug}…`);
    let lease = await client.releaseLease(id, { action: "destroy" });
    if (!TERMINAL_STATES.includes(lease.state)) {
      lease = await waitForState(client, id, "released", { timeoutMs: RELEASE_CONFIRM_MS });
    }
    if (TERMINAL_STATES.includes(lease.state)) {
      ctx.store.remove(id);
      progress.done(`Released lease ${slug}.`);
    } else {
      progress.fail(`Release of lease ${slug} requested (still ${lease.state}); \`crabbox release ${slug}\` confirms it.`);
    }
  } catch (error) {
    if (error instanceof CliError && error.code === "not_found") {
      ctx.store.remove(id); // the create never landed: nothing to release
      progress.done();
      return;
    }
    const reason = error instanceof Error ? error.message : String(error);
    progress.fail(`Could not release lease ${slug}: ${reason}. The coordinator releases it at its ack deadline.`);
  }
}

/** Says so where a stopped (parked) machine still bills, e.g. for its disk (Vast). */
export async function warnIfStopBills(ctx: Context, provider: string): Promise<void> {
  const info = (await ctx.client().providers()).providers.find((p) => p.name === provider);
  if (info?.capabilities.stoppedBills) {
    ctx.out.warn(`${provider} keeps billing a stopped machine for its storage while the lease is parked; release with --action destroy to stop all billing.`);
  }
}
