// Sweep, part one: the backstop for alarms that exhausted their retries. Leases whose next
// deadline (as last indexed) is overdue get poked: their LeaseObject reconciles and re-arms.

import { overdueLeases } from "../ledger/leases";

/** Bounded work per cron run; the rest waits for the next run five minutes later. */
export const MAX_POKES_PER_RUN = 200;
/** A healthy alarm fires on time; only leases this far past due need the backstop. */
export const OVERDUE_SLACK_MS = 60_000;
const POKE_CONCURRENCY = 16;

export interface OverdueReport {
  found: number;
  poked: number;
  failures: number;
}

export async function pokeOverdueLeases(env: Env, now: number, limit = MAX_POKES_PER_RUN): Promise<OverdueReport> {
  const ids = await overdueLeases(env.DB, now, OVERDUE_SLACK_MS, limit);
  let poked = 0;
  let failures = 0;
  for (let i = 0; i < ids.length; i += POKE_CONCURRENCY) {
    const batch = ids.slice(i, i + POKE_CONCURRENCY);
    const results = await Promise.allSettled(batch.map((id) => env.LEASES.get(env.LEASES.idFromName(id)).poke(id)));
    for (const [j, result] of results.entries()) {
      if (result.status === "fulfilled") poked++;
      else {
        failures++;
        console.error(`sweep: poking lease ${batch[j]} failed: ${result.reason instanceof Error ? result.reason.message : String(result.reason)}`);
      }
    }
  }
  return { found: ids.length, poked, failures };
}
