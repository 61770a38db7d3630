// Reclaims one orphan: a few steps of the adapter's destroy, never more. Whatever is left
// continues in the next cron run from the candidate row, which is the durable intent.

import type { ProviderAdapter, ReleaseStep } from "../providers/types";

/** Fast teardowns (terminate, then confirm) finish within one run; slow ones resume next run. */
export const RELEASE_STEPS_PER_RUN = 3;
/** Reclaims per provider per run; the rest wait (deferred) so a run never blocks for minutes. */
export const MAX_RECLAIMS_PER_RUN = 10;
export const RECLAIM_CONCURRENCY = 5;

export interface ReclaimTarget {
  resourceId: string;
  leaseId: string;
  handle: string;
}

export type ReclaimOutcome = ReleaseStep | { done: false; error: string };

/** The sweep never sees the lost lease's request: the adapter's destroy needs only the ref. */
function orphanSpec(target: ReclaimTarget, deploymentId: string) {
  return { leaseId: target.leaseId, deploymentId, owner: "crabbox-sweep", sshPublicKey: "" };
}

export async function reclaimSteps(adapter: ProviderAdapter, target: ReclaimTarget, deploymentId: string): Promise<ReclaimOutcome> {
  // The exact resource id and the handle its marker carries: adapters refuse a mismatch.
  const ref = { handle: target.handle, id: target.resourceId };
  let step: ReleaseStep = { done: false, detail: "not started" };
  for (let i = 0; i < RELEASE_STEPS_PER_RUN && !step.done; i++) {
    try {
      step = await adapter.release(ref, "destroy", orphanSpec(target, deploymentId), { exact: true });
    } catch (err) {
      return { done: false, error: err instanceof Error ? err.message : String(err) };
    }
  }
  return step;
}

/** Runs `reclaimSteps` for each target, a few at a time; outcomes in the targets' order. */
export async function reclaimAll(adapter: ProviderAdapter, targets: readonly ReclaimTarget[], deploymentId: string): Promise<ReclaimOutcome[]> {
  const outcomes: ReclaimOutcome[] = [];
  for (let i = 0; i < targets.length; i += RECLAIM_CONCURRENCY) {
    const batch = targets.slice(i, i + RECLAIM_CONCURRENCY);
    // reclaimSteps never rejects (errors are outcomes), so one slow or failing target cannot sink the batch.
    outcomes.push(...(await Promise.all(batch.map((target) => reclaimSteps(adapter, target, deploymentId)))));
  }
  return outcomes;
}
