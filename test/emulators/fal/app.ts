// fal Compute API routes in the docs' order (create, get, list, delete) under /v1, plus the
// shared /_emulator control plane. In front: request log and faults, `Key` auth, settling.
import { Hono, type Context } from "hono";
import type { HttpBindings } from "@hono/node-server";
import { controlRoutes, type ControlTarget } from "../control.ts";
import { faultMiddleware, type FaultStore, type RequestLog } from "../faults.ts";
import { hashOf, type FalState } from "./state.ts";
import { errorForFault, errorResponse, instanceWire } from "./wire.ts";

export interface FalAppOptions {
  state: FalState;
  apiKey: string;
  faults: FaultStore;
  log: RequestLog;
  control: ControlTarget;
}

const TYPES = new Set(["gpu_1x_h100_sxm5", "gpu_8x_h100_sxm5"]);
const SECTORS = new Set(["sector_1", "sector_2", "sector_3"]);
/** ASSUMPTION: the docs name no page size bounds; the emulator takes 1..100, default 20. */
const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 20;

const cursorOf = (index: number) => Buffer.from(`i:${index}`).toString("base64url");
const indexOf = (cursor: string) => {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  return /^i:\d+$/.test(text) ? Number(text.slice(2)) : undefined;
};

function validateCreate(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "body must be a JSON object";
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !["instance_type", "ssh_key", "sector"].includes(k));
  if (unknown.length) return `unknown fields: ${unknown.join(", ")}`;
  if (typeof b.instance_type !== "string" || !TYPES.has(b.instance_type)) return "instance_type must be gpu_1x_h100_sxm5 or gpu_8x_h100_sxm5";
  if (typeof b.ssh_key !== "string" || b.ssh_key.length < 1) return "ssh_key is required";
  if (b.sector !== undefined) {
    // `sector` is valid ONLY with the 8x type (the docs).
    if (b.instance_type !== "gpu_8x_h100_sxm5") return "sector is only valid for gpu_8x_h100_sxm5";
    if (typeof b.sector !== "string" || !SECTORS.has(b.sector)) return "sector must be sector_1, sector_2 or sector_3";
  }
  return undefined;
}

function apiRoutes({ state, log }: FalAppOptions): Hono<{ Bindings: HttpBindings }> {
  const api = new Hono<{ Bindings: HttpBindings }>();

  api.post("/compute/instances", async (c: Context) => {
    const raw = await c.req.text();
    const key = c.req.header("idempotency-key");
    if (key) {
      const hit = state.cached(key);
      if (hit) {
        // ASSUMPTION: the same key with a different body is refused (the docs are silent).
        if (hit.bodyHash !== hashOf(raw)) return errorResponse(422, "idempotency_error", "Idempotency-Key was used with a different request body");
        return c.json(hit.body as object, hit.status as 200);
      }
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return errorResponse(400, "validation_error", "body is not JSON");
    }
    const problem = validateCreate(body);
    if (problem) return errorResponse(400, "validation_error", problem);
    const b = body as { instance_type: string; ssh_key: string; sector?: string };
    const rec = state.create(b);
    log.recordCreation(key, rec.id);
    const answer = instanceWire(rec);
    if (key) state.remember(key, raw, 200, answer);
    return c.json(answer);
  });

  api.get("/compute/instances/:id", (c) => {
    const rec = state.get(c.req.param("id"));
    if (!rec) return errorResponse(404, "not_found", "Instance not found");
    return c.json(instanceWire(rec));
  });

  api.get("/compute/instances", (c) => {
    const limit = Number(c.req.query("limit") ?? DEFAULT_LIMIT);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return errorResponse(400, "validation_error", `limit must be 1..${MAX_LIMIT}`);
    const cursor = c.req.query("cursor");
    const start = cursor === undefined ? 0 : indexOf(cursor);
    if (start === undefined) return errorResponse(400, "validation_error", "invalid cursor");
    const all = state.listed().sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    const page = all.slice(start, start + limit);
    const more = start + limit < all.length;
    return c.json({ instances: page.map(instanceWire), next_cursor: more ? cursorOf(start + limit) : null, has_more: more });
  });

  api.delete("/compute/instances/:id", async (c) => {
    const rec = state.get(c.req.param("id"));
    if (!rec) return errorResponse(404, "not_found", "Instance not found");
    await state.remove(rec);
    return c.body(null, 204);
  });
  return api;
}

export function createFalApp(options: FalAppOptions): Hono<{ Bindings: HttpBindings }> {
  const { state, apiKey, faults, log } = options;
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.route("/_emulator", controlRoutes(options.control));
  app.use("/v1/*", faultMiddleware({ faults, log, errorFor: errorForFault }));
  app.use("/v1/*", async (c, next) => {
    // `Authorization: Key <admin key>`: the literal word Key.
    if (c.req.header("authorization") !== `Key ${apiKey}`) return errorResponse(401, "authorization_error", "Invalid or missing API key");
    await state.settle();
    await next();
  });
  app.route("/v1", apiRoutes(options));
  app.notFound(() => errorResponse(404, "not_found", "no such endpoint"));
  app.onError((err) => {
    console.error("[fal-emulator]", err);
    return errorResponse(500, "internal_error", "internal error");
  });
  return app;
}
