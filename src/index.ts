// Worker entry: HTTP → the API app; cron → the sweep. Exports the LeaseObject class.

import { createApp } from "./api/app";
import { pokeOverdueLeases } from "./sweep/overdue";

export { LeaseObject } from "./lease/object";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  async scheduled(controller, env) {
    const report = await pokeOverdueLeases(env, Number(controller.scheduledTime));
    console.log(`sweep: ${report.found} overdue, ${report.poked} poked, ${report.failures} failed`);
  },
} satisfies ExportedHandler<Env>;
