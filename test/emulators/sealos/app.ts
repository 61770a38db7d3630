// The Kubernetes API subset a DevBox lease needs (controller-and-api-facts.md §3): discovery,
// devboxes (create/get/list/merge-patch/delete with preconditions, dryRun, fieldValidation),
// secrets, events, namespaces, SelfSubjectRulesReview; bearer tokens scoped to one namespace.
// In front: the shared request log and faults, auth, and one controller pass per request.
import { Hono, type Context } from "hono";
import type { HttpBindings } from "@hono/node-server";
import { controlRoutes, type ControlTarget } from "../control.ts";
import { faultMiddleware, type FaultStore, type RequestLog } from "../faults.ts";
import { admit, type Schema } from "./schema.ts";
import { PART_OF, type DevboxRecord, type SealosState, type StoredObject } from "./state.ts";
import * as k from "./wire.ts";

export interface SealosAppOptions {
  state: SealosState;
  /** Bearer token → the one namespace it may use (a Sealos user's kubeconfig). */
  tokens: Record<string, string>;
  schema: () => Schema;
  faults: FaultStore;
  log: RequestLog;
  control: ControlTarget;
}

type Caller = { namespace: string; user: string };
const callerOf = (c: Context) => c.get("caller" as never) as Caller;
const json = (body: unknown, code = 200) => new Response(JSON.stringify(body), { status: code, headers: { "content-type": "application/json" } });

async function body(c: Context): Promise<Record<string, unknown> | undefined> {
  const parsed = await c.req.json().catch(() => undefined);
  return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}

/** Equality-based selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, joined by commas. */
export function matches(selector: string | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  return selector.split(",").every((term) => {
    const t = term.trim();
    if (!t) return true;
    const ne = /^([^!=]+)!=(.*)$/.exec(t);
    if (ne) return l[ne[1]!.trim()] !== ne[2]!.trim();
    const eq = /^([^!=]+)==?(.*)$/.exec(t);
    if (eq) return l[eq[1]!.trim()] === eq[2]!.trim();
    return t.startsWith("!") ? !(t.slice(1) in l) : t in l;
  });
}

/** A page of `items` by name with `limit` and an opaque `continue` (the last name returned). */
function page<T extends { metadata: { name: string } }>(c: Context, items: T[], kind: string) {
  const sorted = items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const after = c.req.query("continue") ? Buffer.from(c.req.query("continue")!, "base64url").toString() : "";
  const limit = Number(c.req.query("limit") ?? 0);
  const rest = sorted.filter((i) => i.metadata.name > after);
  const out = limit > 0 ? rest.slice(0, limit) : rest;
  const more = limit > 0 && rest.length > limit;
  const metadata = { resourceVersion: "0", ...(more ? { continue: Buffer.from(out[out.length - 1]!.metadata.name).toString("base64url") } : {}) };
  // The metadata API (client-go's metadata client): `as=PartialObjectMetadataList` in Accept
  // answers each item's metadata only, never a Secret's data.
  if (/as=PartialObjectMetadataList/.test(c.req.header("accept") ?? "")) {
    const items = out.map((item) => ({ kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: item.metadata }));
    return json({ kind: "PartialObjectMetadataList", apiVersion: "meta.k8s.io/v1", metadata, items });
  }
  return json({ kind, apiVersion: kind === "DevboxList" ? k.GROUP_VERSION : "v1", metadata, items: out });
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === "object" && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** The CRD's CEL rule: spec.state may change only while the current commit is not Committing. */
function celAllows(old: DevboxRecord["object"], next: DevboxRecord["object"]): boolean {
  if (old.spec.state === next.spec.state) return true;
  const status = old.status as { contentID?: string; commitRecords?: Record<string, { commitStatus?: string }> } | undefined;
  const record = status?.contentID ? status.commitRecords?.[status.contentID] : undefined;
  return Boolean(record && record.commitStatus !== "Committing");
}
const CEL_RULE = "self.spec.state == oldSelf.spec.state || (self.status.contentID in self.status.commitRecords && self.status.commitRecords[self.status.contentID].commitStatus != 'Committing')";

function devboxRoutes(options: SealosAppOptions) {
  const { state, log } = options;
  const api = new Hono<{ Bindings: HttpBindings }>();
  const ns = (c: Context) => c.req.param("ns")!;

  /** Validates a Devbox against the CRD: 400 for unknown fields under Strict, 422 for the rest. */
  const validate = (c: Context, obj: Record<string, unknown>, name: string): Response | undefined => {
    const { errors, unknown } = admit(options.schema(), obj);
    if (unknown.length && c.req.query("fieldValidation") === "Strict") {
      return k.badRequest(`Devbox in version "v1alpha2" cannot be handled as a Devbox: strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(", ")}`);
    }
    if (unknown.length && c.req.query("fieldValidation") !== "Ignore") c.header("warning", unknown.map((u) => `299 - "unknown field \\"${u}\\""`).join(", "));
    return errors.length ? k.invalid(k.DEVBOXES, name, errors) : undefined;
  };

  api.post("/namespaces/:ns/devboxes", async (c) => {
    const obj = await body(c);
    if (!obj) return k.badRequest("the body of the request was in an unknown format");
    const meta = (obj.metadata ?? {}) as Record<string, unknown>;
    const name = String(meta.name ?? "");
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) return k.invalid(k.DEVBOXES, name, [{ field: "metadata.name", reason: "FieldValueInvalid", message: `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'` }]);
    if (meta.namespace !== undefined && meta.namespace !== ns(c)) return k.badRequest("the namespace of the provided object does not match the namespace sent on the request");
    if (obj.apiVersion !== k.GROUP_VERSION || obj.kind !== "Devbox") return k.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${k.GROUP_VERSION})`);
    delete obj.status; // status is a subresource: a create sets none
    const refused = validate(c, obj, name);
    if (refused) return refused;
    if (state.devbox(ns(c), name)) return k.alreadyExists(k.DEVBOXES, name);
    const object = { ...obj, metadata: { ...state.newMeta(ns(c), { name, labels: meta.labels as Record<string, string>, annotations: meta.annotations as Record<string, string> }), generation: 1 } } as DevboxRecord["object"];
    if (c.req.query("dryRun") === "All") return json(object, 201);
    state.addDevbox(object);
    log.recordCreation(name, object.metadata.uid);
    return json(object, 201);
  });

  api.get("/namespaces/:ns/devboxes", (c) => {
    const name = /^metadata\.name=(.+)$/.exec(c.req.query("fieldSelector") ?? "")?.[1];
    const items = state.devboxes(ns(c)).map((r) => r.object).filter((o) => matches(c.req.query("labelSelector"), o.metadata.labels) && (!name || o.metadata.name === name));
    return page(c, items, "DevboxList");
  });

  api.get("/namespaces/:ns/devboxes/:name", (c) => {
    const rec = state.devbox(ns(c), c.req.param("name"));
    return rec ? json(rec.object) : k.notFound(k.DEVBOXES, c.req.param("name"));
  });

  api.patch("/namespaces/:ns/devboxes/:name", async (c) => {
    const name = c.req.param("name");
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim();
    if (type !== "application/merge-patch+json") {
      return k.status(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
    }
    const rec = state.devbox(ns(c), name);
    if (!rec) return k.notFound(k.DEVBOXES, name);
    const patch = await body(c);
    if (!patch) return k.badRequest("the body of the request was in an unknown format");
    const fence = (patch.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
    if (fence !== undefined && fence !== rec.object.metadata.resourceVersion) return k.conflict(k.DEVBOXES, name);
    const { status: _ignored, ...patchable } = patch;
    const next = mergePatch(structuredClone(rec.object), patchable) as DevboxRecord["object"];
    next.metadata = { ...rec.object.metadata, labels: next.metadata.labels, annotations: next.metadata.annotations, finalizers: next.metadata.finalizers };
    next.status = rec.object.status;
    const refused = validate(c, next, name);
    if (refused) return refused;
    if (!celAllows(rec.object, next)) return k.invalid(k.DEVBOXES, name, [{ field: "<nil>", reason: "FieldValueInvalid", message: `Invalid value: "object": failed rule: ${CEL_RULE}` }]);
    if (c.req.query("dryRun") === "All") return json(next);
    const specChanged = JSON.stringify(next.spec) !== JSON.stringify(rec.object.spec);
    const stateChanged = next.spec.state !== rec.object.spec.state;
    if (specChanged) next.metadata.generation = (rec.object.metadata.generation ?? 1) + 1;
    rec.object = next;
    state.bump(next.metadata);
    if (stateChanged) state.stateChanged(rec);
    return json(next);
  });

  api.delete("/namespaces/:ns/devboxes/:name", async (c) => {
    const name = c.req.param("name");
    const rec = state.devbox(ns(c), name);
    if (!rec) return k.notFound(k.DEVBOXES, name);
    const refused = preconditionsRefuse(await body(c), rec.object, k.DEVBOXES);
    if (refused) return refused;
    if (c.req.query("dryRun") === "All") return json(rec.object);
    const gone = state.markDeleted(rec);
    return gone ? json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, group: k.GROUP, kind: "devboxes", uid: rec.object.metadata.uid } }) : json(rec.object);
  });
  return api;
}

/** DeleteOptions.preconditions: 409 Conflict naming the field that differs. */
function preconditionsRefuse(options: Record<string, unknown> | undefined, obj: StoredObject, kind: typeof k.DEVBOXES): Response | undefined {
  const pre = (options?.preconditions ?? {}) as { uid?: string; resourceVersion?: string };
  if (pre.uid !== undefined && pre.uid !== obj.metadata.uid) return k.conflict(kind, obj.metadata.name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`);
  if (pre.resourceVersion !== undefined && pre.resourceVersion !== obj.metadata.resourceVersion) {
    return k.conflict(kind, obj.metadata.name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`);
  }
  return undefined;
}

function coreRoutes(options: SealosAppOptions) {
  const { state } = options;
  const api = new Hono<{ Bindings: HttpBindings }>();
  const ns = (c: Context) => c.req.param("ns")!;
  const mayWriteSecrets = (c: Context, verb: string) => (options.state.config.secretsAllowed ? undefined : k.forbidden(k.SECRETS, callerOf(c).user, verb, ns(c)));

  api.get("/namespaces/:ns", (c) => json({ kind: "Namespace", apiVersion: "v1", metadata: { name: ns(c) }, status: { phase: "Active" } }));
  api.get("/namespaces/:ns/events", (c) => json({ kind: "EventList", apiVersion: "v1", metadata: {}, items: state.events(ns(c)) }));

  api.post("/namespaces/:ns/secrets", async (c) => {
    const refusal = mayWriteSecrets(c, "create");
    if (refusal) return refusal;
    const obj = await body(c);
    const meta = (obj?.metadata ?? {}) as Record<string, unknown>;
    const name = String(meta.name ?? "");
    if (!obj || !name) return k.badRequest("the body of the request was in an unknown format");
    const data = (obj.data ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(data)) {
      if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return k.badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0 (data.${key})`);
    }
    if (state.secret(ns(c), name)) return k.alreadyExists(k.SECRETS, name);
    const object: StoredObject = { apiVersion: "v1", kind: "Secret", metadata: state.newMeta(ns(c), { name, labels: meta.labels as Record<string, string>, annotations: meta.annotations as Record<string, string> }), type: obj.type ?? "Opaque", data };
    if (c.req.query("dryRun") !== "All") state.putSecret(object);
    return json(object, 201);
  });
  api.get("/namespaces/:ns/secrets", (c) => state.config.secretListAllowed ? page(c, state.secrets(ns(c)).filter((s) => matches(c.req.query("labelSelector"), s.metadata.labels)), "SecretList") : k.forbidden(k.SECRETS, callerOf(c).user, "list", ns(c)));
  api.get("/namespaces/:ns/secrets/:name", (c) => {
    const secret = state.secret(ns(c), c.req.param("name"));
    return secret ? json(secret) : k.notFound(k.SECRETS, c.req.param("name"));
  });
  api.delete("/namespaces/:ns/secrets/:name", async (c) => {
    const refusal = mayWriteSecrets(c, "delete");
    if (refusal) return refusal;
    const secret = state.secret(ns(c), c.req.param("name"));
    if (!secret) return k.notFound(k.SECRETS, c.req.param("name"));
    const refused = preconditionsRefuse(await body(c), secret, k.SECRETS);
    if (refused) return refused;
    state.deleteSecret(ns(c), secret.metadata.name);
    return json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name: secret.metadata.name, kind: "secrets", uid: secret.metadata.uid } });
  });
  return api;
}

/** Every namespaced route answers 403 outside the token's own namespace. */
function namespaceGuard(kind: typeof k.DEVBOXES) {
  return async (c: Context, next: () => Promise<void>) => {
    const target = c.req.param("ns");
    if (target && target !== callerOf(c).namespace) return k.forbidden(kind, callerOf(c).user, c.req.method === "GET" ? "get" : c.req.method.toLowerCase(), target);
    await next();
  };
}

export function createSealosApp(options: SealosAppOptions) {
  const { state, faults, log, tokens } = options;
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.route("/_emulator", controlRoutes(options.control));
  const inFront = faultMiddleware({ faults, log, errorFor: k.errorForFault });
  const emulatorOnly = (c: Context) => c.req.path.startsWith("/_emulator");
  app.use("*", (c, next) => (emulatorOnly(c) ? next() : inFront(c, next)));
  app.use("*", async (c, next) => {
    if (emulatorOnly(c)) return next();
    const token = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1] ?? "";
    const namespace = tokens[token];
    if (!namespace) return k.unauthorized();
    c.set("caller" as never, { namespace, user: `system:serviceaccount:${namespace}:crabbox` } as never);
    await state.settle();
    await next();
  });
  app.get("/version", (c) => c.json(k.KUBE_VERSION));
  app.get("/openapi/v3", (c) => c.json(k.openapiRoot()));
  app.get(`/openapi/v3/apis/${k.GROUP_VERSION}`, (c) => c.json(k.openapiGroup("Devbox", `/apis/${k.GROUP_VERSION}/namespaces/{namespace}/devboxes`, k.GROUP, k.VERSION, options.schema())));
  app.get("/openapi/v3/api/v1", (c) => c.json(k.openapiGroup("Secret", "/api/v1/namespaces/{namespace}/secrets", "", "v1", { type: "object" })));
  app.get("/api", (c) => c.json({ kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: new URL(c.req.url).host }] }));
  app.get("/apis", (c) => c.json({ kind: "APIGroupList", apiVersion: "v1", groups: [k.apiGroup(k.GROUP, k.VERSION), k.apiGroup("authorization.k8s.io", "v1")] }));
  app.get("/api/v1", (c) =>
    c.json(k.apiResourceList("v1", [
      { name: "namespaces", singularName: "namespace", kind: "Namespace", verbs: ["get", "list"], namespaced: false },
      { name: "secrets", singularName: "secret", kind: "Secret", verbs: k.ALL_VERBS },
      { name: "events", singularName: "event", kind: "Event", verbs: ["get", "list"] },
    ])),
  );
  app.get(`/apis/${k.GROUP}`, (c) => c.json({ kind: "APIGroup", apiVersion: "v1", ...k.apiGroup(k.GROUP, k.VERSION) }));
  app.get(`/apis/${k.GROUP_VERSION}`, (c) => c.json(k.apiResourceList(k.GROUP_VERSION, [{ name: "devboxes", singularName: "devbox", kind: "Devbox", verbs: k.ALL_VERBS }, { name: "devboxes/status", singularName: "", kind: "Devbox", verbs: ["get", "patch", "update"] }])));
  app.get("/apis/authorization.k8s.io/v1", (c) => c.json(k.apiResourceList("authorization.k8s.io/v1", [{ name: "selfsubjectrulesreviews", singularName: "selfsubjectrulesreview", kind: "SelfSubjectRulesReview", verbs: ["create"], namespaced: false }])));
  app.post("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", async (c) => {
    const review = await body(c);
    const target = String((review?.spec as { namespace?: string } | undefined)?.namespace ?? "");
    const own = target === callerOf(c).namespace;
    const rules = own
      ? [
          { verbs: ["create", "delete", "get", "list", "patch", "update", "watch"], apiGroups: [k.GROUP], resources: ["devboxes"] },
          { verbs: ["get"], apiGroups: [k.GROUP], resources: ["devboxes/status"] },
          { verbs: ["get", "list"], apiGroups: [""], resources: ["events"] },
          { verbs: [...(state.config.secretsAllowed ? ["create", "get", "delete"] : ["get"]), ...(state.config.secretListAllowed ? ["list"] : [])], apiGroups: [""], resources: ["secrets"] },
        ]
      : [];
    return c.json({ kind: "SelfSubjectRulesReview", apiVersion: "authorization.k8s.io/v1", metadata: {}, spec: { namespace: target }, status: { resourceRules: rules, nonResourceRules: [], incomplete: false } }, 201);
  });
  app.use("/api/v1/namespaces/:ns/*", namespaceGuard(k.SECRETS));
  app.use(`/apis/${k.GROUP_VERSION}/namespaces/:ns/*`, namespaceGuard(k.DEVBOXES));
  app.route("/api/v1", coreRoutes(options));
  app.route(`/apis/${k.GROUP_VERSION}`, devboxRoutes(options));
  app.notFound(() => k.status(404, "NotFound", "the server could not find the requested resource"));
  app.onError((err) => {
    console.error("[sealos-emulator]", err);
    return k.status(500, "InternalError", "an error on the server has prevented the request from succeeding");
  });
  return app;
}

export { PART_OF };
