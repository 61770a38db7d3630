// /v1/admin/sweeps: the orphan sweep's recorded runs, and running it now (or as a dry run).
// Admin tokens only: a sweep reads every provider account and can destroy machines.

import { ListSweepsQuery, SweepRequest, SweepRun, SweepRunList } from "../../contract/sweep";
import { listRuns } from "../../ledger/sweeps";
import { findProviderFactory } from "../../providers/registry";
import { sweepableProviders, sweepOrphans, summarize } from "../../sweep/orphans";
import { badRequest } from "../errors";
import { route } from "../route";

const DEFAULT_LIST_LIMIT = 20;

/** Every requested provider must exist and be configured; a typo is a 400, not an empty run. */
function checkProviders(env: Env, names: readonly string[] | undefined): void {
  if (!names) return;
  const configured = new Set(sweepableProviders(env));
  for (const name of names) {
    if (!findProviderFactory(name)) throw badRequest("unknown_provider", `no provider named ${name}`);
    if (!configured.has(name)) throw badRequest("provider_not_configured", `provider ${name} is not configured on this coordinator`);
  }
}

export const sweepRoutes = [
  route({
    method: "get",
    path: "/v1/admin/sweeps",
    summary: "Recent orphan sweep runs, newest first, with each candidate's decision",
    auth: "admin",
    query: ListSweepsQuery,
    responses: { 200: SweepRunList },
    errors: [400, 401, 403],
    handler: async (c, { query }) => c.json({ sweeps: await listRuns(c.env.DB, query.limit ? Number(query.limit) : DEFAULT_LIST_LIMIT) }),
  }),
  route({
    method: "post",
    path: "/v1/admin/sweeps",
    summary: "Run the orphan sweep now; dryRun decides without releasing or recording sightings",
    auth: "admin",
    body: SweepRequest,
    responses: { 200: SweepRun },
    errors: [400, 401, 403, 413, 415],
    handler: async (c, { body }) => {
      checkProviders(c.env, body.providers);
      const run = await sweepOrphans(c.env, Date.now(), { trigger: "admin", dryRun: body.dryRun ?? false, providers: body.providers });
      console.log(summarize(run));
      return c.json(run);
    },
  }),
];
