// The Devbox CRD's openAPIV3Schema as the API server applies it: structural defaulting, then
// validation (types, enums, required, patterns, int-or-string), and unknown fields reported for
// `fieldValidation=Strict` (pruned otherwise). The schema is the real CRD from
// ../shared/contracts/sealos/ when it is found (CRABBOX_CONTRACTS_DIR, or ../shared beside the
// repo); without it, a small built-in schema of the fields the adapter sends stands in.
// Hand-written (about 100 lines) because no JSON-schema library reports Kubernetes' unknown-field
// semantics (objects with `properties` are closed unless they preserve unknown fields).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  pattern?: string;
  default?: unknown;
  format?: string;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

export interface FieldError {
  field: string;
  reason: "FieldValueRequired" | "FieldValueNotSupported" | "FieldValueInvalid" | "FieldValueTypeInvalid";
  message: string;
}

const CRD_FILE = "sealos/devbox.sealos.io_devboxes.v1alpha2.yaml";

/** ASSUMPTION: the stand-in when the contracts are absent (fresh clone with no ../shared). */
const BUILT_IN: Schema = {
  type: "object",
  properties: {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    metadata: { type: "object" },
    spec: {
      type: "object",
      required: ["config", "image", "network", "resource", "state"],
      properties: {
        state: { type: "string", enum: ["Running", "Paused", "Stopped", "Shutdown"], default: "Running" },
        image: { type: "string" },
        resource: { type: "object", additionalProperties: { "x-kubernetes-int-or-string": true } },
        network: { type: "object", required: ["type"], properties: { type: { type: "string", enum: ["NodePort", "Tailnet", "SSHGate"] }, extraPorts: { type: "array" } } },
        config: {
          type: "object",
          properties: {
            user: { type: "string", default: "devbox" },
            workingDir: { type: "string", default: "/home/devbox/project" },
            ports: { type: "array", items: { type: "object", required: ["containerPort"], properties: { name: { type: "string" }, containerPort: { type: "integer", format: "int32" }, protocol: { type: "string", default: "TCP" } } } },
          },
        },
        templateID: { type: "string" },
      },
    },
    status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
  },
};

export function loadDevboxSchema(): { schema: Schema; source: string } {
  const here = dirname(fileURLToPath(import.meta.url));
  const dirs = [process.env.CRABBOX_CONTRACTS_DIR, join(here, "../../../../shared/contracts")].filter((d): d is string => Boolean(d));
  for (const dir of dirs) {
    const file = join(dir, CRD_FILE);
    if (!existsSync(file)) continue;
    const crd = parse(readFileSync(file, "utf8")) as { spec: { versions: { name: string; schema: { openAPIV3Schema: Schema } }[] } };
    const version = crd.spec.versions.find((v) => v.name === "v1alpha2");
    if (version) return { schema: version.schema.openAPIV3Schema, source: file };
  }
  return { schema: BUILT_IN, source: "built-in subset (contracts not found)" };
}

/** The schema with `Paused` dropped from spec.state's enum: a cluster older than Paused. */
export function withoutPaused(schema: Schema): Schema {
  const copy = structuredClone(schema);
  const state = copy.properties?.spec?.properties?.state;
  if (state?.enum) state.enum = state.enum.filter((v) => v !== "Paused");
  return copy;
}

/** Applies defaults in place, validates, and collects unknown fields (pruning them). */
export function admit(schema: Schema, value: unknown): { errors: FieldError[]; unknown: string[] } {
  const errors: FieldError[] = [];
  const unknown: string[] = [];
  walk(schema, value, "", errors, unknown);
  return { errors, unknown };
}

const quote = (v: unknown) => JSON.stringify(v);

function walk(schema: Schema, value: unknown, path: string, errors: FieldError[], unknown: string[]): void {
  const at = path || "<root>";
  if (schema["x-kubernetes-int-or-string"]) {
    if (!(typeof value === "string" || Number.isInteger(value))) errors.push({ field: at, reason: "FieldValueTypeInvalid", message: `Invalid value: ${quote(value)}: ${at} in body must be of type integer,string` });
    else if (typeof value === "string" && schema.pattern && !new RegExp(schema.pattern).test(value)) errors.push({ field: at, reason: "FieldValueInvalid", message: `Invalid value: ${quote(value)}: ${at} in body should match '${schema.pattern}'` });
    return;
  }
  const type = schema.type;
  const actual = Array.isArray(value) ? "array" : value === null ? "null" : Number.isInteger(value) ? "integer" : typeof value;
  if (type && !(actual === type || (type === "number" && actual === "integer"))) {
    errors.push({ field: at, reason: "FieldValueTypeInvalid", message: `Invalid value: ${quote(actual)}: ${at} in body must be of type ${type}: ${quote(actual)}` });
    return;
  }
  if (schema.enum && !schema.enum.includes(value)) {
    errors.push({ field: at, reason: "FieldValueNotSupported", message: `Unsupported value: ${quote(value)}: supported values: ${schema.enum.map(quote).join(", ")}` });
  }
  if (type === "string" && schema.pattern && !new RegExp(schema.pattern).test(value as string)) {
    errors.push({ field: at, reason: "FieldValueInvalid", message: `Invalid value: ${quote(value)}: ${at} in body should match '${schema.pattern}'` });
  }
  if (type === "integer" && schema.format === "int32" && Math.abs(value as number) > 2 ** 31) {
    errors.push({ field: at, reason: "FieldValueInvalid", message: `Invalid value: ${quote(value)}: ${at} in body should be a 32-bit integer` });
  }
  if (type === "array" && schema.items) (value as unknown[]).forEach((item, i) => walk(schema.items!, item, `${path}[${i}]`, errors, unknown));
  if (type !== "object" || actual !== "object") return;
  const obj = value as Record<string, unknown>;
  // metadata is ObjectMeta: the API server checks it itself, never against the CRD.
  if (path === ".metadata" || path === "metadata") return;
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    if (obj[key] === undefined && sub.default !== undefined) obj[key] = structuredClone(sub.default);
  }
  for (const key of schema.required ?? []) {
    if (obj[key] === undefined) errors.push({ field: join2(path, key), reason: "FieldValueRequired", message: "Required value" });
  }
  for (const [key, item] of Object.entries(obj)) {
    const sub = schema.properties?.[key] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
    if (sub) walk(sub, item, join2(path, key), errors, unknown);
    else if (!schema["x-kubernetes-preserve-unknown-fields"] && schema.additionalProperties !== true && (schema.properties || schema.additionalProperties)) {
      unknown.push(join2(path, key).replace(/^\./, ""));
      delete obj[key];
    }
  }
}

const join2 = (path: string, key: string) => (path ? `${path}.${key}` : key);
