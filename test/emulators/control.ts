// The unauthenticated `/_emulator/` control plane every emulator serves (spec: CONTROL.md), so
// tests inside workerd, which cannot call Node functions, can drive an emulator over HTTP.
import { Hono, type Context } from "hono";
import { parseFaults, type FaultStore } from "./faults.ts";

export interface ControlTarget {
  reset(): Promise<void>;
  /** What GET /_emulator/state answers (after settling due transitions, so it is current). */
  state(): unknown | Promise<unknown>;
  /** Merge settings; answers a reason when the input is invalid (nothing is applied then). */
  configure(partial: unknown): string | undefined;
  faults: FaultStore;
  /** Force a provider status on a resource; a reason when refused, "not_found" when unknown. */
  forceStatus(id: string, status: unknown): Promise<string | undefined>;
}

async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

const bad = (c: Context, message: string, status: 400 | 404 = 400) => c.json({ error: message }, status);

export function controlRoutes(target: ControlTarget): Hono {
  const control = new Hono();
  control.post("/reset", async (c) => {
    await target.reset();
    return c.json({ ok: true });
  });
  control.get("/state", async (c) => c.json(await target.state()));
  control.post("/config", async (c) => {
    const body = await jsonBody(c);
    const problem = body === undefined ? "body must be JSON" : target.configure(body);
    return problem ? bad(c, problem) : c.json({ ok: true });
  });
  control.get("/faults", (c) => c.json({ faults: target.faults.list() }));
  control.post("/faults", async (c) => {
    const faults = parseFaults(await jsonBody(c));
    if (typeof faults === "string") return bad(c, faults);
    target.faults.add(faults);
    return c.json({ ok: true });
  });
  control.delete("/faults", (c) => {
    target.faults.clear();
    return c.json({ ok: true });
  });
  control.post("/instances/:id/status", async (c) => {
    const body = (await jsonBody(c)) as { status?: unknown } | undefined;
    const problem = await target.forceStatus(c.req.param("id"), body?.status);
    if (problem === "not_found") return bad(c, "no such instance", 404);
    return problem ? bad(c, problem) : c.json({ ok: true });
  });
  return control;
}
