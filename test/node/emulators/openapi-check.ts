// A small JSON Schema checker for OpenAPI 3.x response schemas, enough to hold the emulators to
// the providers' published contracts: $ref, anyOf/oneOf/allOf, const, enum, type, properties,
// required, additionalProperties, items and string limits. Returns the problems found.
import { readFileSync } from "node:fs";
import { join } from "node:path";

type Schema = { [key: string]: any };

/** Where the contract files live (CI sets it to ../shared/contracts); undefined skips the checks. */
export const CONTRACTS_DIR = process.env.CRABBOX_CONTRACTS_DIR;

export function loadSpec(relativePath: string): Schema {
  if (!CONTRACTS_DIR) throw new Error("CRABBOX_CONTRACTS_DIR is not set");
  return JSON.parse(readFileSync(join(CONTRACTS_DIR, relativePath), "utf8"));
}

function resolve(doc: Schema, ref: string): Schema {
  return ref.replace(/^#\//, "").split("/").reduce((node: Schema, part) => node?.[part], doc);
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function typeMatches(expected: string, actual: string): boolean {
  return expected === actual || (expected === "number" && actual === "integer");
}

export function check(doc: Schema, schema: Schema, value: unknown, at = "$"): string[] {
  if (schema.$ref) return check(doc, resolve(doc, schema.$ref), value, at);
  const problems: string[] = [];
  for (const key of ["anyOf", "oneOf"] as const) {
    if (schema[key]) {
      const branches = (schema[key] as Schema[]).map((s) => check(doc, s, value, at));
      if (!branches.some((b) => b.length === 0)) {
        problems.push(`${at}: matches no ${key} branch (${branches.map((b) => b[0]).join(" | ")})`);
      }
    }
  }
  for (const sub of (schema.allOf as Schema[] | undefined) ?? []) problems.push(...check(doc, sub, value, at));
  if ("const" in schema && value !== schema.const) problems.push(`${at}: expected ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} not in enum`);
  const actual = typeOf(value);
  if (schema.type) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => typeMatches(t, actual))) return [...problems, `${at}: expected ${types.join("|")}, got ${actual}`];
  }
  if (actual === "string") {
    const s = value as string;
    if (schema.maxLength !== undefined && s.length > schema.maxLength) problems.push(`${at}: longer than ${schema.maxLength}`);
    if (schema.minLength !== undefined && s.length < schema.minLength) problems.push(`${at}: shorter than ${schema.minLength}`);
    if (schema.pattern && !new RegExp(schema.pattern).test(s)) problems.push(`${at}: does not match ${schema.pattern}`);
  }
  if (actual === "array" && schema.items) {
    (value as unknown[]).forEach((item, i) => problems.push(...check(doc, schema.items, item, `${at}[${i}]`)));
  }
  if (actual === "object") problems.push(...checkObject(doc, schema, value as Record<string, unknown>, at));
  return problems;
}

function checkObject(doc: Schema, schema: Schema, value: Record<string, unknown>, at: string): string[] {
  const problems: string[] = [];
  const properties: Schema = schema.properties ?? {};
  for (const name of (schema.required as string[] | undefined) ?? []) {
    if (!(name in value)) problems.push(`${at}: missing required ${name}`);
  }
  for (const [name, field] of Object.entries(value)) {
    if (properties[name]) problems.push(...check(doc, properties[name], field, `${at}.${name}`));
    else if (schema.additionalProperties === false) problems.push(`${at}: unexpected property ${name}`);
    else if (typeof schema.additionalProperties === "object") {
      problems.push(...check(doc, schema.additionalProperties, field, `${at}.${name}`));
    }
  }
  return problems;
}

/** Problems of a response body against the spec's schema for that path, method and status. */
export function checkResponse(doc: Schema, route: { path: string; method: string; status: number }, body: unknown): string[] {
  const operation = doc.paths?.[route.path]?.[route.method.toLowerCase()];
  if (!operation) return [`spec has no ${route.method} ${route.path}`];
  const response = operation.responses?.[String(route.status)];
  if (!response) return [`spec declares no ${route.status} for ${route.method} ${route.path}`];
  const schema = response.content?.["application/json"]?.schema;
  if (!schema) return [`spec has no JSON schema for ${route.status} of ${route.method} ${route.path}`];
  return check(doc, schema, body);
}
