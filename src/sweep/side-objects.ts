// The side objects of one provider (key objects, Secrets: ../providers/types.ts SideObject): a
// lease removes its own when it ends, so one still there belongs to a lease that was lost or whose
// teardown failed. Removed when the index says its lease ended and no machine of ours carries its
// handle (then the machine's reclaim removes it last); reported, never touched, when the index
// does not know its lease at all. Side objects do not bill: this keeps the account tidy and lets
// the live smoke prove that nothing of a run is left.

import type { SideObjectsReport } from "../contract/sweep";
import { leaseLiveness } from "../ledger/leases";
import type { ProviderSweepInput } from "./provider";

/** Removals per provider per run: a backlog drains over a few runs, never blocking one. */
export const MAX_SIDE_OBJECT_REMOVALS_PER_RUN = 20;
/** Stranded objects kept in a run's record; `stranded` counts them all. */
const MAX_RECORDED = 50;

export async function sweepSideObjects(input: ProviderSweepInput, handlesWithMachines: ReadonlySet<string>): Promise<SideObjectsReport> {
  const { adapter } = input;
  let objects;
  try {
    objects = await adapter.sideObjects();
  } catch (err) {
    return { listed: 0, stranded: 0, removed: 0, objects: [], error: input.redact(err instanceof Error ? err.message : String(err)) };
  }
  const live = await leaseLiveness(input.env.DB, [...new Set(objects.map((o) => o.leaseId))]);
  const report: SideObjectsReport = { listed: objects.length, stranded: 0, removed: 0, objects: [] };
  let removals = 0;
  for (const object of objects) {
    const state = live.get(object.leaseId);
    if (state === true || handlesWithMachines.has(object.handle)) continue;
    report.stranded++;
    const entry: SideObjectsReport["objects"][number] = { kind: object.kind, id: object.id, leaseId: object.leaseId, action: "reported" };
    if (state === undefined) entry.detail = "the index does not know its lease: left for an operator";
    else if (input.dryRun) entry.action = "dry_run";
    else if (removals >= MAX_SIDE_OBJECT_REMOVALS_PER_RUN) entry.action = "deferred";
    else {
      removals++;
      try {
        await adapter.removeSideObject(object);
        entry.action = "removed";
        report.removed++;
      } catch (err) {
        entry.action = "failed";
        entry.detail = input.redact(err instanceof Error ? err.message : String(err));
      }
    }
    if (report.objects.length < MAX_RECORDED) report.objects.push(entry);
  }
  return report;
}
