// Asks each resource's LeaseObject whether its live lease claims exactly that resource. The
// object is the source of truth (the D1 index may lag), so the sweep never reads the leases table.

import { NO_LEASE } from "./inventory";

/** RPCs in flight at once: enough to keep a run short, few enough to stay polite to the runtime. */
export const CLAIM_CONCURRENCY = 16;

export type ClaimAnswer = { claimed: boolean } | { error: string };

export async function askClaims(env: Env, resources: readonly { id: string; leaseId: string }[]): Promise<ClaimAnswer[]> {
  const answers: ClaimAnswer[] = [];
  for (let i = 0; i < resources.length; i += CLAIM_CONCURRENCY) {
    const batch = resources.slice(i, i + CLAIM_CONCURRENCY);
    // An unknown lease id gets an empty object that answers "not claimed": exactly the lost-record case.
    // A resource under no lease (a dedicated account's unattributed one) has nobody to ask.
    const results = await Promise.allSettled(
      batch.map((r) => (r.leaseId === NO_LEASE ? Promise.resolve({ claimed: false }) : env.LEASES.get(env.LEASES.idFromName(r.leaseId)).claims(r.id))),
    );
    for (const result of results) {
      answers.push(
        result.status === "fulfilled"
          ? { claimed: result.value.claimed }
          : { error: result.reason instanceof Error ? result.reason.message : String(result.reason) },
      );
    }
  }
  return answers;
}
