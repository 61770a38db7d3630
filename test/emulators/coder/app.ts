// Coder API routes (the subset a lease needs, under /api/v2) plus the shared control plane and
// one emulator-only route the stand-in `coder` CLI uses to reach a workspace's SSH server.
// In front: request log and faults, `Coder-Session-Token` auth, settling due builds.
import { Hono, type Context } from "hono";
import type { HttpBindings } from "@hono/node-server";
import { controlRoutes, type ControlTarget } from "../control.ts";
import { faultMiddleware, type FaultStore, type RequestLog } from "../faults.ts";
import { ORG, TEMPLATE, TEMPLATE_PARAMETERS, TEMPLATE_PRESETS, type CoderState } from "./state.ts";
import { buildWire, errorForFault, errorResponse, workspaceWire } from "./wire.ts";

export interface CoderAppOptions {
  state: CoderState;
  /** The service account's token: may create and see workspaces of every user. */
  adminToken: string;
  sshPort: number;
  faults: FaultStore;
  log: RequestLog;
  control: ControlTarget;
}

/**
 * ASSUMPTION: users are created on first use, and a user's own token is `coder-user-<name>`
 * (the real CLI gets one by `coder login`); the admin token is the coordinator's.
 */
const USER_TOKEN = /^coder-user-([a-z0-9][a-z0-9-]{0,31})$/;
const NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const NOT_FOUND = "Resource not found or you do not have access to this resource";

type Caller = { user: string; admin: boolean };
const callerOf = (c: Context) => c.get("caller" as never) as Caller;
const sees = (caller: Caller, owner: string) => caller.admin || caller.user === owner;

/** `rich_parameter_values` checked as coderd does against the template version: a map, or why not. */
function richParameters(values: unknown): Record<string, string> | string {
  if (values === undefined || values === null) return {};
  if (!Array.isArray(values)) return "must be an array of {name, value}";
  const out: Record<string, string> = {};
  for (const v of values as { name?: unknown; value?: unknown }[]) {
    const param = TEMPLATE_PARAMETERS.find((p) => p.name === v?.name);
    if (!param || typeof v.value !== "string") return `parameter ${JSON.stringify(v?.name)} is not defined by the template`;
    if (param.options.length && !param.options.some((o) => o.value === v.value)) return `parameter ${param.name}: value is not one of the options`;
    if (param.validation_regex && !new RegExp(param.validation_regex).test(v.value)) return `parameter ${param.name}: ${param.validation_error}`;
    out[param.name] = v.value;
  }
  return out;
}

function apiRoutes({ state, log }: CoderAppOptions) {
  const api = new Hono<{ Bindings: HttpBindings }>();
  const visible = (c: Context, ws: ReturnType<CoderState["byId"]>) => (ws && sees(callerOf(c), ws.owner) ? ws : undefined);
  const userOf = (c: Context, user: string) => (user === "me" ? callerOf(c).user : user);

  api.get("/users/me", (c) => c.json({ id: `user-${callerOf(c).user}`, username: callerOf(c).user, roles: callerOf(c).admin ? [{ name: "owner" }] : [] }));

  api.get("/organizations/:org", (c) => ([ORG.id, ORG.name].includes(c.req.param("org")) ? c.json(ORG) : errorResponse(404, NOT_FOUND)));

  api.get("/organizations/:org/templates/:name", (c) =>
    c.req.param("org") === ORG.id && c.req.param("name") === TEMPLATE.name ? c.json(TEMPLATE) : errorResponse(404, NOT_FOUND),
  );

  // ASSUMPTION: only the checks crabbox asks are answered truthfully: a workspace create for
  // owner "*" (anyone) is allowed to the admin token, a create for one's own id to everyone.
  api.post("/authcheck", async (c) => {
    const body = (await c.req.json().catch(() => undefined)) as { checks?: Record<string, { object?: { resource_type?: string; owner_id?: string }; action?: string }> } | undefined;
    if (!body?.checks || typeof body.checks !== "object") return errorResponse(400, "Invalid request.");
    const caller = callerOf(c);
    const answers = Object.fromEntries(
      Object.entries(body.checks).map(([key, check]) => [
        key,
        check.object?.resource_type === "workspace" && check.action === "create" && (caller.admin || check.object.owner_id === `user-${caller.user}`),
      ]),
    );
    return c.json(answers);
  });

  api.get("/templateversions/:id/resources", (c) =>
    c.req.param("id") === TEMPLATE.active_version_id
      ? c.json([{ id: `${TEMPLATE.active_version_id}-r`, name: "dev", type: "docker_container", workspace_transition: "start", agents: [{ id: `${TEMPLATE.active_version_id}-a`, name: "main", status: "connecting", lifecycle_state: "created", operating_system: "linux", architecture: "amd64" }] }])
      : errorResponse(404, NOT_FOUND),
  );

  api.get("/templateversions/:id/presets", (c) => (c.req.param("id") === TEMPLATE.active_version_id ? c.json(TEMPLATE_PRESETS) : errorResponse(404, NOT_FOUND)));

  api.get("/templateversions/:id/rich-parameters", (c) =>
    c.req.param("id") === TEMPLATE.active_version_id ? c.json(TEMPLATE_PARAMETERS) : errorResponse(404, NOT_FOUND),
  );

  api.post("/organizations/:org/members/:user/workspaces", async (c) => {
    if (c.req.param("org") !== ORG.id) return errorResponse(404, NOT_FOUND);
    const owner = userOf(c, c.req.param("user"));
    // A member may create only their own; the service account (owner role) anyone's.
    if (!sees(callerOf(c), owner)) return errorResponse(403, "Forbidden.", { detail: "You do not have permission to create workspaces for other users." });
    const body = (await c.req.json().catch(() => undefined)) as { name?: unknown; template_id?: unknown; template_version_id?: unknown; template_version_preset_id?: unknown; rich_parameter_values?: unknown } | undefined;
    if (!body || typeof body.name !== "string" || !NAME.test(body.name)) {
      return errorResponse(400, "Invalid request.", { validations: [{ field: "name", detail: "Must be lowercase letters, digits and hyphens, at most 32 characters." }] });
    }
    if ((body.template_id === undefined) === (body.template_version_id === undefined)) return errorResponse(400, "Exactly one of template_id or template_version_id is required.");
    if (body.template_id !== undefined && body.template_id !== TEMPLATE.id) return errorResponse(400, "Template not found.");
    // ASSUMPTION: any template_version_id names a version of some other template (the emulator
    // keeps one template), so a workspace made from it carries a different template_id.
    const templateId = body.template_id !== undefined ? TEMPLATE.id : `other-template-${String(body.template_version_id).slice(0, 8)}`;
    const preset = body.template_version_preset_id === undefined ? undefined : TEMPLATE_PRESETS.find((p) => p.ID === body.template_version_preset_id);
    if (body.template_version_preset_id !== undefined && !preset) return errorResponse(400, "Template version preset not found.");
    // A preset's values first; values the request names override them.
    const given = body.rich_parameter_values ?? [];
    if (!Array.isArray(given)) return errorResponse(400, "Invalid rich parameter values.", { validations: [{ field: "rich_parameter_values", detail: "must be an array of {name, value}" }] });
    const parameters = richParameters([...(preset?.Parameters ?? []).map((p) => ({ name: p.Name, value: p.Value })), ...given]);
    if (typeof parameters === "string") return errorResponse(400, "Invalid rich parameter values.", { validations: [{ field: "rich_parameter_values", detail: parameters }] });
    if (state.byName(owner, body.name)) {
      return errorResponse(409, `Workspace "${body.name}" already exists.`, { validations: [{ field: "name", detail: "This value is already in use and should be unique." }] });
    }
    // 201, as the SDK expects (api-excerpts.md "Status codes: docs vs SDK").
    const ws = state.create(owner, body.name, templateId, parameters);
    log.recordCreation(ws.name, ws.id);
    return c.json(workspaceWire(ws), 201);
  });

  api.get("/users/:user/workspace/:name", (c) => {
    const ws = visible(c, state.byName(userOf(c, c.req.param("user")), c.req.param("name")));
    return ws ? c.json(workspaceWire(ws)) : errorResponse(404, NOT_FOUND);
  });

  api.get("/workspaces/:id", (c) => {
    const ws = visible(c, state.byId(c.req.param("id")));
    return ws ? c.json(workspaceWire(ws)) : errorResponse(404, NOT_FOUND);
  });

  api.get("/workspaces", (c) => {
    const q = c.req.query("q") ?? "";
    const prefix = /(?:^|\s)name:(\S+)/.exec(q)?.[1];
    const limit = Number(c.req.query("limit") ?? 25);
    const offset = Number(c.req.query("offset") ?? 0);
    const all = state
      .all()
      .filter((ws) => sees(callerOf(c), ws.owner) && (!prefix || ws.name.includes(prefix)))
      .sort((a, b) => a.name.localeCompare(b.name));
    return c.json({ workspaces: all.slice(offset, offset + limit).map(workspaceWire), count: all.length });
  });

  api.post("/workspaces/:id/builds", async (c) => {
    const ws = visible(c, state.byId(c.req.param("id")));
    if (!ws) return errorResponse(404, NOT_FOUND);
    const body = (await c.req.json().catch(() => undefined)) as { transition?: unknown } | undefined;
    if (!["start", "stop", "delete"].includes(String(body?.transition))) return errorResponse(400, "Invalid transition.");
    const build = state.build(ws, body!.transition as "start" | "stop" | "delete");
    if (!build) return errorResponse(409, "A workspace build is already active.");
    return c.json(buildWire(ws, build), 201);
  });
  return api;
}

export function createCoderApp(options: CoderAppOptions) {
  const { state, adminToken, faults, log } = options;
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.route("/_emulator", controlRoutes(options.control));
  // For the stand-in `coder ssh --stdio`: where the workspace's SSH server listens.
  app.get("/_emulator/workspaces/:id/ssh", async (c) => {
    await state.settle();
    const ws = state.byId(c.req.param("id"));
    if (!ws?.machine) return c.json({ error: "the workspace's agent is not connected" }, 409);
    return c.json({ host: ws.address, port: options.sshPort });
  });
  app.use("/api/v2/*", faultMiddleware({ faults, log, errorFor: errorForFault }));
  app.use("/api/v2/*", async (c, next) => {
    const token = c.req.header("coder-session-token") ?? "";
    const user = USER_TOKEN.exec(token)?.[1];
    if (token !== adminToken && !user) return errorResponse(401, "You must be logged in to use this API.");
    c.set("caller" as never, (token === adminToken ? { user: "crabbox-admin", admin: true } : { user, admin: false }) as never);
    await state.settle();
    await next();
  });
  app.route("/api/v2", apiRoutes(options));
  app.notFound(() => errorResponse(404, "Route not found."));
  app.onError((err) => {
    console.error("[coder-emulator]", err);
    return errorResponse(500, "Internal error.");
  });
  return app;
}
