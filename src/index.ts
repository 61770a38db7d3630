// Worker entry: HTTP → the API app; cron → the sweep. Exports the LeaseObject class.

import { createApp } from "./api/app";
import { sweepOrphans, summarize } from "./sweep/orphans";
import { pokeOverdueLeases } from "./sweep/overdue";

export { LeaseObject } from "./lease/object";
export { PacingObject } from "./pacing/object";
export { CapacityObject } from "./capacity/object";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  async scheduled(controller, env) {
    const now = Number(controller.scheduledTime);
    const failures: string[] = [];
    // Two independent backstops, in order (pokes may end leases the orphan sweep then sees
    // ended); each runs even when the other throws.
    try {
      const report = await pokeOverdueLeases(env, now);
      console.log(`sweep: ${report.found} overdue, ${report.poked} poked, ${report.failures} failed`);
    } catch (err) {
      failures.push(`overdue pokes: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      console.log(summarize(await sweepOrphans(env, now, { trigger: "cron" })));
    } catch (err) {
      failures.push(`orphan sweep: ${err instanceof Error ? err.message : String(err)}`);
    }
    // Rethrown once both ran, so the cron invocation shows as failed in the dashboard.
    if (failures.length) throw new Error(`sweep failed: ${failures.join("; ")}`);
  },
} satisfies ExportedHandler<Env>;
