// apimachinery's wire shapes as the emulator answers them: `Status` failures with the real
// reasons and message formats (controller-and-api-facts.md §3), and discovery documents.
import type { FieldError } from "./schema.ts";

export const GROUP = "devbox.sealos.io";
export const VERSION = "v1alpha2";
export const GROUP_VERSION = `${GROUP}/${VERSION}`;
export const KUBE_VERSION = { major: "1", minor: "29", gitVersion: "v1.29.9-emulated", platform: "linux/amd64" };

type Kind = { resource: string; group: string; kind: string };
export const DEVBOXES: Kind = { resource: "devboxes", group: GROUP, kind: "Devbox" };
export const SECRETS: Kind = { resource: "secrets", group: "", kind: "Secret" };

const qualified = (k: Kind) => (k.group ? `${k.resource}.${k.group}` : k.resource);

export function status(code: number, reason: string, message: string, details?: Record<string, unknown>): Response {
  const body = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details ? { details } : {}), code };
  return new Response(JSON.stringify(body), { status: code, headers: { "content-type": "application/json" } });
}

export const notFound = (k: Kind, name: string) => status(404, "NotFound", `${qualified(k)} "${name}" not found`, { name, group: k.group, kind: k.resource });
export const alreadyExists = (k: Kind, name: string) => status(409, "AlreadyExists", `${qualified(k)} "${name}" already exists`, { name, group: k.group, kind: k.resource });
export const conflict = (k: Kind, name: string, why = "the object has been modified; please apply your changes to the latest version and try again") =>
  status(409, "Conflict", `Operation cannot be fulfilled on ${qualified(k)} "${name}": ${why}`, { name, group: k.group, kind: k.resource });
export const invalid = (k: Kind, name: string, errors: FieldError[]) =>
  status(422, "Invalid", `${k.kind}${k.group ? `.${k.group}` : ""} "${name}" is invalid: ${errors.map((e) => `${e.field}: ${e.message}`).join(", ")}`, {
    name,
    group: k.group,
    kind: k.kind,
    causes: errors.map((e) => ({ reason: e.reason, message: e.message, field: e.field })),
  });
export const forbidden = (k: Kind, user: string, verb: string, namespace: string) =>
  status(403, "Forbidden", `${qualified(k)} is forbidden: User "${user}" cannot ${verb} resource "${k.resource}" in API group "${k.group}" in the namespace "${namespace}"`, { group: k.group, kind: k.resource });
export const unauthorized = () => status(401, "Unauthorized", "Unauthorized");
export const badRequest = (message: string) => status(400, "BadRequest", message);

export function apiResourceList(groupVersion: string, resources: { name: string; singularName: string; kind: string; verbs: string[]; namespaced?: boolean }[]) {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion,
    resources: resources.map((r) => ({ name: r.name, singularName: r.singularName, namespaced: r.namespaced ?? true, kind: r.kind, verbs: r.verbs })),
  };
}

export const ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

export function apiGroup(name: string, version: string) {
  const gv = { groupVersion: `${name}/${version}`, version };
  return { name, versions: [gv], preferredVersion: gv };
}

/** A fault's answer as the API server would give it (Priority and Fairness for 429). */
export function errorForFault(fault: { kind: string; path: string; status?: number; message?: string }): Response {
  // A 409 on an object's path is the optimistic-lock Conflict another writer causes.
  if (fault.status === 409) return conflict(DEVBOXES, fault.path.split("/").pop() ?? "");
  if (fault.kind === "rate_limit" || fault.status === 429) return status(429, "TooManyRequests", "the server has received too many requests and has asked us to try again later", { retryAfterSeconds: 1 });
  const code = fault.status ?? 500;
  if (code === 404) return status(404, "NotFound", fault.message ?? "the server could not find the requested resource");
  return status(code, code >= 500 ? "InternalError" : "BadRequest", fault.message ?? (code >= 500 ? 'an error on the server ("emulated") has prevented the request from succeeding' : "bad request"));
}

/**
 * The OpenAPI v3 documents kubectl reads before a create: it sends `fieldValidation=Strict`
 * only when the group's POST operation declares that parameter (client-go QueryParamVerifierV3).
 * ASSUMPTION: a minimal document, just the operations and parameters kubectl looks for.
 */
export function openapiRoot() {
  return { paths: { [`apis/${GROUP_VERSION}`]: { serverRelativeURL: `/openapi/v3/apis/${GROUP_VERSION}?hash=emulated` }, "api/v1": { serverRelativeURL: "/openapi/v3/api/v1?hash=emulated" } } };
}

export function openapiGroup(kind: string, path: string, group: string, version: string, schema: unknown) {
  const gvk = [{ group, version, kind }];
  const params = ["dryRun", "fieldManager", "fieldValidation", "pretty"].map((name) => ({ name, in: "query", schema: { type: "string", uniqueItems: true } }));
  const op = (action: string) => ({ parameters: params, "x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk[0], responses: { "200": { description: "OK" } } });
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: KUBE_VERSION.gitVersion },
    paths: { [path]: { post: op("post"), get: op("list") }, [`${path}/{name}`]: { get: op("get"), patch: op("patch"), put: op("put"), delete: op("delete") } },
    components: { schemas: { [`${group || "core"}.${version}.${kind}`]: { ...(schema as object), "x-kubernetes-group-version-kind": gvk } } },
  };
}
