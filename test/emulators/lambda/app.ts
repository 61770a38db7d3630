// Lambda Cloud API routes (paths, status codes and error codes of openapi-1.10.0.json) plus the
// shared /_emulator control plane. Order in front of every API route: request log and faults,
// the launch throttle (Cloudflare sits before auth), auth, then settling due boots.
import { Hono, type Context } from "hono";
import type { HttpBindings } from "@hono/node-server";
import { controlRoutes, type ControlTarget } from "../control.ts";
import { faultMiddleware, type FaultStore, type RequestLog } from "../faults.ts";
import { generateEd25519 } from "../keys.ts";
import { IMAGES, INSTANCE_TYPES, REGIONS, instanceType, regionWire } from "./catalog.ts";
import { hexId, type LambdaState } from "./state.ts";
import { InvalidParameters, parseAddSshKey, parseLaunch, parseRename, parseTerminate, type LaunchRequest } from "./validate.ts";
import {
  ERRORS, dataResponse, errorForFault, errorResponse, instanceWire, invalidParameters,
  launchResourceNotFound, rateLimited, sshKeyWire, type ApiError,
} from "./wire.ts";

export const API_PREFIX = "/api/v1";

export interface LambdaAppOptions {
  state: LambdaState;
  apiKey: string;
  faults: FaultStore;
  log: RequestLog;
  control: ControlTarget;
}

/** Bearer, or Basic with the key as user name (`curl -u KEY:`) or the bare key, per the spec. */
export function authorized(header: string | undefined, apiKey: string): boolean {
  const match = /^(\S+)\s+(\S+)$/.exec(header?.trim() ?? "");
  if (!match) return false;
  const [, scheme, value] = match as unknown as [string, string, string];
  if (scheme.toLowerCase() === "bearer") return value === apiKey;
  if (scheme.toLowerCase() !== "basic") return false;
  if (value === apiKey) return true;
  const decoded = Buffer.from(value.replace(/:$/, ""), "base64").toString("utf8");
  return decoded === `${apiKey}:` || decoded === apiKey;
}

async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) throw new InvalidParameters("Request body must be valid JSON");
    throw err;
  }
}

/** The resources a launch names must exist (ApiErrorLaunchResourceNotFound otherwise). */
function missingLaunchResource(req: LaunchRequest, state: LambdaState): ApiError | undefined {
  const keyName = req.ssh_key_names[0]!;
  if (!state.keyByName(keyName)) return launchResourceNotFound(`SSH key '${keyName}'`);
  const image = req.image;
  if (image) {
    const found = IMAGES.some((i) =>
      i.region.name === req.region_name && ("id" in image ? i.id === image.id : i.family === image.family),
    );
    if (!found) return launchResourceNotFound(`Image ${"id" in image ? image.id : image.family} in ${req.region_name}`);
  }
  // The emulated account owns no file systems and no firewall rulesets.
  const fs = req.file_system_names?.[0] ?? req.file_system_mounts?.[0]?.file_system_id;
  if (fs !== undefined) return launchResourceNotFound(`File system '${fs}'`);
  const ruleset = req.firewall_rulesets?.[0];
  if (ruleset) return launchResourceNotFound(`Firewall ruleset '${ruleset.id}'`);
  return undefined;
}

function apiRoutes({ state, log }: LambdaAppOptions): Hono<{ Bindings: HttpBindings }> {
  const api = new Hono<{ Bindings: HttpBindings }>();

  api.get("/instance-types", (c) => {
    const capacity = state.config.capacity;
    const entries = INSTANCE_TYPES.map((type) => [
      type.name,
      {
        instance_type: type,
        regions_with_capacity_available: Object.keys(capacity)
          .filter((region) => (capacity[region]?.[type.name] ?? 0) > 0)
          .map(regionWire),
      },
    ]);
    return dataResponse(Object.fromEntries(entries));
  });

  api.get("/instances", (c) => {
    // No clusters exist in the emulated account.
    if (c.req.query("cluster_id") !== undefined) return dataResponse([]);
    return dataResponse(state.visible().map(({ rec, status }) => instanceWire(rec, status)));
  });

  api.get("/instances/:id", (c) => {
    const found = state.lookup(c.req.param("id"));
    if (!found) return errorResponse(ERRORS.instanceNotFound);
    return dataResponse(instanceWire(found.rec, found.status));
  });

  api.post("/instances/:id", async (c) => {
    const found = state.lookup(c.req.param("id"));
    if (!found) return errorResponse(ERRORS.instanceNotFound);
    const { name } = parseRename(await readJson(c));
    if (name !== undefined) found.rec.name = name;
    return dataResponse(instanceWire(found.rec, found.status));
  });

  api.post("/instance-operations/launch", async (c) => {
    const req = parseLaunch(await readJson(c));
    if (!instanceType(req.instance_type_name)) {
      return errorResponse(invalidParameters(`Invalid instance type: ${req.instance_type_name}`));
    }
    const missing = missingLaunchResource(req, state);
    if (missing) return errorResponse(missing);
    const quota = state.config.quota;
    if (quota !== null && state.liveCount() >= quota) return errorResponse(ERRORS.quotaExceeded);
    if ((state.config.capacity[req.region_name]?.[req.instance_type_name] ?? 0) <= 0) {
      return errorResponse(ERRORS.insufficientCapacity);
    }
    const rec = state.launch({
      name: req.name,
      hostname: req.hostname,
      region: req.region_name,
      typeName: req.instance_type_name,
      sshKeyName: req.ssh_key_names[0]!,
      authorizedKey: state.keyByName(req.ssh_key_names[0]!)!.publicKey,
      tags: req.tags ?? [],
      userData: req.user_data,
    });
    log.recordCreation(req.name, rec.id);
    return dataResponse({ instance_ids: [rec.id] });
  });

  api.post("/instance-operations/terminate", async (c) => {
    const ids = parseTerminate(await readJson(c));
    const found = ids.map((id) => state.lookup(id));
    // All or nothing: one unknown id fails the request before anything is terminated.
    if (found.some((f) => !f)) return errorResponse(ERRORS.instanceNotFound);
    const terminated = [];
    for (const { rec, status } of found.map((f) => f!)) {
      const already = rec.terminatedAt !== undefined;
      await state.terminate(rec);
      // A fresh terminate answers `terminating` (as the spec's example does) even when
      // terminateMs is 0; an instance already on its way out reports where it is.
      terminated.push(instanceWire(rec, already ? status : "terminating"));
    }
    return dataResponse({ terminated_instances: terminated });
  });

  api.get("/ssh-keys", () => dataResponse(state.keys().map(sshKeyWire)));

  api.post("/ssh-keys", async (c) => {
    const req = parseAddSshKey(await readJson(c));
    // The real message, as seen by SkyPilot (skypilot-org/skypilot#1837).
    if (state.keyByName(req.name)) return errorResponse(invalidParameters("Key name must be unique"));
    if (req.public_key !== undefined) {
      const key = { id: hexId(), name: req.name, publicKey: req.public_key };
      state.addKey(key);
      return dataResponse(sshKeyWire(key));
    }
    const pair = generateEd25519();
    const key = { id: hexId(), name: req.name, publicKey: pair.public };
    state.addKey(key);
    return dataResponse({ ...sshKeyWire(key), private_key: pair.private });
  });

  api.delete("/ssh-keys/:id", (c) => {
    // The spec documents only 400 for this route; an unknown id is "invalid parameters".
    if (!state.deleteKey(c.req.param("id"))) return errorResponse(invalidParameters("Invalid SSH key ID"));
    return dataResponse({});
  });

  api.get("/images", () => dataResponse(IMAGES));
  api.get("/regions", () => dataResponse(Object.keys(REGIONS).map(regionWire)));
  api.get("/file-systems", () => dataResponse([]));
  // ASSUMPTION: the emulated account owns no firewall rulesets, so every id is unknown; the
  // 404 body follows ApiErrorNotFound's sibling for objects (global/object-does-not-exist).
  api.get("/firewall-rulesets", () => dataResponse([]));
  api.get("/firewall-rulesets/:id", () =>
    errorResponse({ status: 404, code: "global/object-does-not-exist", message: "Specified firewall ruleset does not exist." }),
  );
  return api;
}

export function createLambdaApp(options: LambdaAppOptions): Hono<{ Bindings: HttpBindings }> {
  const { state, apiKey, faults, log } = options;
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.route("/_emulator", controlRoutes(options.control));
  app.use(`${API_PREFIX}/*`, faultMiddleware({ faults, log, errorFor: errorForFault }));
  // The general account limit, then the launch limit: both at the edge, before auth.
  app.use(`${API_PREFIX}/*`, async (c, next) => {
    if (!state.takeRequestToken()) return rateLimited();
    await next();
  });
  app.use(`${API_PREFIX}/instance-operations/launch`, async (c, next) => {
    if (c.req.method === "POST" && !state.takeLaunchSlot()) return rateLimited();
    await next();
  });
  app.use(`${API_PREFIX}/*`, async (c, next) => {
    if (!authorized(c.req.header("authorization"), apiKey)) return errorResponse(ERRORS.invalidApiKey);
    await state.settle();
    await next();
  });
  app.route(API_PREFIX, apiRoutes(options));
  app.notFound(() => errorResponse(ERRORS.routeNotFound));
  app.onError((err) => {
    if (err instanceof InvalidParameters) return errorResponse(invalidParameters(err.message));
    console.error("[lambda-emulator]", err);
    return errorResponse(ERRORS.internal);
  });
  return app;
}
