// Vast.ai API routes in the docs' order (search, create, show, list v1, manage, destroy, keys,
// user) plus the shared /_emulator control plane. In front of every API route: request log and
// faults, the per-endpoint rate limit, auth, then settling due transitions.
import { Hono, type Context } from "hono";
import type { HttpBindings } from "@hono/node-server";
import { controlRoutes, type ControlTarget } from "../control.ts";
import { faultMiddleware, type FaultStore, type RequestLog } from "../faults.ts";
import type { OfferRecord, VastState } from "./state.ts";
import { ERRORS, errorForFault, errorResponse, instanceWire, invalidArgs, noSuchAsk, rateLimited } from "./wire.ts";

export interface VastAppOptions {
  state: VastState;
  apiKey: string;
  sshPort: number;
  faults: FaultStore;
  log: RequestLog;
  control: ControlTarget;
}

const OPS = ["eq", "neq", "gt", "gte", "lt", "lte", "in", "notin"] as const;
/** Search fields that are not offer columns. */
const SEARCH_META = new Set(["order", "type", "limit", "allocated_storage", "external"]);
/** Runtypes as the docs name them and as the official client sends them (cli-facts.md). */
const RUNTYPES = new Set(["ssh_direct", "ssh_proxy", "ssh", "jupyter_direct", "jupyter_proxy", "jupyter", "args", "ssh_direc ssh_proxy", "jupyter_direc ssh_direc ssh_proxy", "jupyter_proxy ssh_proxy"]);
const PAGE_MAX = 25;

async function jsonBody(c: Context): Promise<Record<string, unknown> | undefined> {
  try {
    const body = JSON.parse((await c.req.text()) || "{}");
    return typeof body === "object" && body !== null && !Array.isArray(body) ? body : undefined;
  } catch {
    return undefined;
  }
}

/** An offer's value for a search field; `duration` is seconds left until its end_date. */
function fieldOf(offer: OfferRecord, field: string, nowS: number): unknown {
  if (field === "duration") return offer.end_date - nowS;
  if (field === "rentable") return true;
  if (field === "rented") return false;
  return (offer as unknown as Record<string, unknown>)[field];
}

/**
 * ASSUMPTION: `geolocation` filters name two-letter country codes (the yaml's example) while
 * offers read "Region, CC": a code matches the offer's trailing country code. Unknown fields
 * match nothing the emulator can check, so they are ignored, as the live API ignores fields it
 * does not index.
 */
function matches(offer: OfferRecord, field: string, filter: Record<string, unknown>, nowS: number): boolean {
  const actual = fieldOf(offer, field, nowS);
  if (actual === undefined) return true;
  const same = (want: unknown) => (field === "geolocation" && typeof actual === "string" && typeof want === "string" ? actual === want || actual.endsWith(`, ${want}`) : actual === want);
  for (const [op, want] of Object.entries(filter)) {
    const n = Number(actual);
    const ok =
      op === "eq" ? same(want)
      : op === "neq" ? !same(want)
      : op === "gt" ? n > Number(want)
      : op === "gte" ? n >= Number(want)
      : op === "lt" ? n < Number(want)
      : op === "lte" ? n <= Number(want)
      : op === "in" ? Array.isArray(want) && want.some(same)
      : op === "notin" ? Array.isArray(want) && !want.some(same)
      : true;
    if (!ok) return false;
  }
  return true;
}

function offerWire(offer: OfferRecord): Record<string, unknown> {
  return { ...offer, ask_contract_id: offer.id, rentable: true, rented: false, dph_base: offer.dph_total * 0.9, min_bid: offer.dph_total * 0.5, gpu_ram: 24_576, cpu_ram: 65_536, is_bid: false, reliability2: offer.reliability };
}

function apiRoutes({ state, sshPort, log }: VastAppOptions): Hono<{ Bindings: HttpBindings }> {
  const api = new Hono<{ Bindings: HttpBindings }>();
  const instance = (c: Context) => state.get(Number(c.req.param("id")));

  api.post("/api/v0/bundles/", async (c) => {
    const body = await jsonBody(c);
    if (!body) return invalidArgs("body must be a JSON object");
    const nowS = Date.now() / 1000;
    let offers = state.availableOffers();
    for (const [field, filter] of Object.entries(body)) {
      if (SEARCH_META.has(field)) continue;
      if (typeof filter !== "object" || filter === null || Object.keys(filter).some((op) => !(OPS as readonly string[]).includes(op))) {
        return invalidArgs(`invalid filter for ${field}: expected {op: value} with op in ${OPS.join(", ")}`);
      }
      offers = offers.filter((offer) => matches(offer, field, filter as Record<string, unknown>, nowS));
    }
    const [[col, dir] = ["score", "desc"]] = (Array.isArray(body.order) ? body.order : []) as [string, string][];
    offers.sort((a, b) => (Number(fieldOf(a, col, nowS) ?? 0) - Number(fieldOf(b, col, nowS) ?? 0)) * (dir === "desc" ? -1 : 1));
    const limit = typeof body.limit === "number" ? body.limit : 64;
    return c.json({ offers: offers.slice(0, limit).map(offerWire) });
  });

  api.put("/api/v0/asks/:id/", async (c) => {
    const body = await jsonBody(c);
    const offerId = Number(c.req.param("id"));
    if (!body) return invalidArgs("body must be a JSON object");
    if (typeof body.image !== "string" || !body.image) return invalidArgs("error 400/3467: Invalid args: 'image' is required");
    if (body.runtype !== undefined && !RUNTYPES.has(String(body.runtype))) return invalidArgs(`invalid runtype ${String(body.runtype)}`);
    if (body.label !== undefined && body.label !== null && typeof body.label !== "string") return invalidArgs("label must be a string");
    const slot = state.offer(offerId);
    if (!slot) return noSuchAsk(offerId, 404);
    const free = slot.heldBy === null;
    // cancel_unavail: "Return error if scheduling fails (rather than creating a stopped instance)".
    if (!free && body.cancel_unavail === true) return noSuchAsk(offerId, 410);
    const rec = state.create({
      offer: slot.offer,
      label: (body.label as string | null | undefined) ?? null,
      image: body.image,
      runtype: String(body.runtype ?? "ssh_proxy"),
      onstart: typeof body.onstart === "string" ? body.onstart : null,
      startNow: free,
    });
    log.recordCreation(rec.label, String(rec.id));
    return c.json({ success: true, new_contract: rec.id, instance_api_key: rec.instanceApiKey });
  });

  api.get("/api/v0/instances/:id/", async (c) => {
    const rec = instance(c);
    // A missing instance is `200 {"instances": null}`, not 404 (cli-facts.md, show__instance).
    return c.json({ instances: rec ? instanceWire(rec, sshPort) : null });
  });

  api.get("/api/v1/instances/", (c) => {
    const limit = Number(c.req.query("limit") ?? PAGE_MAX);
    if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX) return invalidArgs(`limit must be 1..${PAGE_MAX}`);
    let filters: Record<string, { in?: unknown[]; eq?: unknown }>;
    try {
      filters = JSON.parse(c.req.query("select_filters") ?? "{}");
    } catch {
      return invalidArgs("select_filters must be JSON");
    }
    const after = c.req.query("after_token");
    const afterId = after ? Number(Buffer.from(after, "base64").toString("utf8")) : 0;
    if (!Number.isFinite(afterId)) return invalidArgs("invalid after_token");
    const wanted = (field: string, value: unknown) => {
      const f = filters[field];
      if (!f) return true;
      if (f.in) return f.in.includes(value);
      return f.eq === undefined || f.eq === value;
    };
    const all = state
      .instances()
      .filter((rec) => wanted("label", rec.label) && wanted("actual_status", rec.actual))
      .sort((a, b) => a.id - b.id);
    const rest = all.filter((rec) => rec.id > afterId);
    const page = rest.slice(0, limit);
    const more = rest.length > limit;
    return c.json({
      success: true,
      instances_found: page.length,
      total_instances: all.length,
      next_token: more ? Buffer.from(String(page[page.length - 1]!.id)).toString("base64") : null,
      instances: page.map((rec) => instanceWire(rec, sshPort)),
    });
  });

  api.put("/api/v0/instances/:id/", async (c) => {
    const rec = instance(c);
    if (!rec) return errorResponse(ERRORS.noSuchInstance);
    const body = await jsonBody(c);
    if (!body) return invalidArgs("body must be a JSON object");
    if (body.label !== undefined) rec.label = body.label === null ? null : String(body.label);
    if (body.state !== undefined) {
      if (body.state !== "running" && body.state !== "stopped") return invalidArgs("state must be running or stopped");
      await state.setState(rec, body.state);
    }
    return c.json({ success: true });
  });

  api.delete("/api/v0/instances/:id/", async (c) => {
    const rec = instance(c);
    if (!rec) return errorResponse(ERRORS.noSuchInstance);
    await state.destroy(rec);
    return c.json({ success: true, msg: "Instance destroyed successfully" });
  });

  api.post("/api/v0/instances/:id/ssh/", async (c) => {
    const rec = instance(c);
    if (!rec) return errorResponse({ status: 404, error: "no_such_instance", msg: "Instance not found." });
    const key = (await jsonBody(c))?.ssh_key;
    // The official client refuses private keys and anything not starting with "ssh".
    if (typeof key !== "string" || !key.startsWith("ssh") || key.includes("PRIVATE KEY")) return invalidArgs("ssh_key must be a public key");
    state.attachKey(rec, key);
    return c.json({ success: true, msg: "SSH key attached successfully" });
  });

  api.get("/api/v0/instances/:id/ssh/", (c) => {
    const rec = instance(c);
    if (!rec) return errorResponse({ status: 404, error: "no_such_instance", msg: "Instance not found." });
    // `ssh_keys` is a JSON-encoded string (show_instance_ssh_keys.yaml).
    return c.json({ success: true, ssh_keys: JSON.stringify(rec.keys.map((k) => ({ id: k.id, name: `key-${k.id}`, public_key: k.public_key }))) });
  });

  api.delete("/api/v0/instances/:id/ssh/:key/", (c) => {
    const rec = instance(c);
    if (!rec) return errorResponse({ status: 404, error: "no_such_instance", msg: "Instance not found." });
    if (!state.detachKey(rec, Number(c.req.param("key")))) return errorResponse(ERRORS.noSuchKey);
    return c.json({ success: true, msg: "SSH key removed from instance." });
  });

  api.get("/api/v0/users/current/", (c) => c.json({ id: 4242, key_id: 17, email: "team@example.test", balance: 123.45, ssh_key: state.config.accountKey ?? "", sid: "emulated" }));
  return api;
}

/** `/api/v0/instances/123/ssh/9/` → `/api/v0/instances/{id}/ssh/{id}/`: one limit per endpoint. */
function endpointOf(method: string, path: string): string {
  return `${method} ${path.replace(/\/\d+(?=\/)/g, "/{id}")}`;
}

export function createVastApp(options: VastAppOptions): Hono<{ Bindings: HttpBindings }> {
  const { state, apiKey, faults, log } = options;
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.route("/_emulator", controlRoutes(options.control));
  app.use("/api/*", faultMiddleware({ faults, log, errorFor: errorForFault }));
  app.use("/api/*", async (c, next) => {
    if (!state.takeEndpointSlot(endpointOf(c.req.method, new URL(c.req.url).pathname))) return rateLimited();
    if (c.req.header("authorization") !== `Bearer ${apiKey}`) return errorResponse(ERRORS.auth);
    await state.settle();
    await next();
  });
  app.route("/", apiRoutes(options));
  app.notFound(() => errorResponse({ status: 404, error: "not_found", msg: "no such endpoint" }));
  app.onError((err) => {
    console.error("[vast-emulator]", err);
    return errorResponse(ERRORS.internal);
  });
  return app;
}
