// Bench-only floor for `npm run bench`: the same hono app, auth, body validation and lease
// resolution as a touch, then one RPC to the lease's LeaseObject that does nothing. Unless the
// var CRABBOX_BENCH is "1" every path under /v1/_bench answers 404 exactly like an unknown route.

import type { Hono } from "hono";
import * as z from "zod/mini";
import { TouchRequest } from "../../contract/lease";
import { ApiError } from "../errors";
import { mount, route, type AppEnv } from "../route";
import { leaseStub, resolveLease } from "./leases";

export const BENCH_PREFIX = "/v1/_bench";

/** Deliberately absent from wrangler.toml: only `wrangler dev --var CRABBOX_BENCH:1` sets it. */
function benchEnabled(env: Env): boolean {
  return (env as Env & { CRABBOX_BENCH?: string }).CRABBOX_BENCH === "1";
}

export const benchRoutes = [
  route({
    method: "post",
    path: `${BENCH_PREFIX}/floor/:ref`,
    summary: "Bench floor: authenticate, validate, resolve the lease, one no-op RPC to its object",
    auth: "user",
    // The touch body, so the floor pays for the same parsing and validation a touch does.
    body: TouchRequest,
    responses: { 200: z.object({ pong: z.literal(true) }) },
    errors: [400, 401, 404],
    handler: async (c) => {
      const id = await resolveLease(c, c.req.param("ref")!, c.get("principal").owner);
      return c.json(await leaseStub(c.env, id).ping());
    },
  }),
];

/** Not part of ROUTES, so never in the OpenAPI document; gated before auth so it 404s, not 401s. */
export function mountBenchRoutes(app: Hono<AppEnv>): void {
  app.use(`${BENCH_PREFIX}/*`, async (c, next) => {
    if (!benchEnabled(c.env)) {
      const error = new ApiError(404, "route_not_found", `no route ${c.req.method} ${c.req.path}`);
      return c.json(error.body(), error.status);
    }
    await next();
  });
  mount(app, benchRoutes);
}
