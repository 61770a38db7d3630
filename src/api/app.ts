// The API app: mounts every declared route, maps errors to the stable envelope.

import { Hono } from "hono";
import { ApiError } from "./errors";
import { mount, type AppEnv, type RouteSpec } from "./route";
import { adminRoutes } from "./routes/admin";
import { mountBenchRoutes } from "./routes/bench";
import { leaseRoutes } from "./routes/leases";
import { usageRoutes } from "./routes/usage";
import { metaRoutes } from "./routes/meta";
import { sweepRoutes } from "./routes/sweeps";

export const ROUTES: readonly RouteSpec[] = [...metaRoutes(() => ROUTES), ...leaseRoutes, ...usageRoutes, ...adminRoutes, ...sweepRoutes];

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  mount(app, ROUTES);
  mountBenchRoutes(app);
  app.notFound((c) => {
    const known = ROUTES.some((r) => new RegExp(`^${r.path.replace(/:[a-zA-Z]+/g, "[^/]+")}$`).test(c.req.path));
    const error = known
      ? new ApiError(405, "method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}`)
      : new ApiError(404, "route_not_found", `no route ${c.req.method} ${c.req.path}`);
    return c.json(error.body(), error.status);
  });
  app.onError((err, c) => {
    if (err instanceof ApiError) {
      if (err.options.retryAfterSeconds !== undefined) c.header("retry-after", String(err.options.retryAfterSeconds));
      return c.json(err.body(), err.status);
    }
    // Internals stay in the log; the client gets a stable code and nothing else.
    console.error(`unhandled error on ${c.req.method} ${c.req.path}: ${err instanceof Error ? err.stack : String(err)}`);
    return c.json(new ApiError(500, "internal_error", "internal error").body(), 500);
  });
  return app;
}
