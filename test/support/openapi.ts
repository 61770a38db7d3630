// Shared OpenAPI helpers for conformance tests (adapters and emulators): find the contracts
// directory, load a spec, and validate a value against an operation's request/response schema
// with a small JSON-Schema validator covering the subset the provider specs use.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";

export type JsonSchema = { [key: string]: unknown };
export interface OpenApiDocument {
  openapi: string;
  info: { version: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}
interface OpenApiOperation {
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
}

export const CONTRACTS_ENV = "CRABBOX_CONTRACTS_DIR";
export const CONTRACTS_SKIP_MESSAGE = `set ${CONTRACTS_ENV}=../shared/contracts to run`;

/** The contracts directory from CRABBOX_CONTRACTS_DIR, or undefined when unset (tests skip). */
export function contractsDir(): string | undefined {
  const dir = process.env[CONTRACTS_ENV];
  if (!dir) return undefined;
  if (!existsSync(dir)) throw new Error(`${CONTRACTS_ENV}=${dir} does not exist`);
  return dir;
}

export function readJson(dir: string, ...path: string[]): unknown {
  return JSON.parse(readFileSync(join(dir, ...path), "utf8"));
}

export function loadOpenApi(dir: string, ...path: string[]): OpenApiDocument {
  const file = join(dir, ...path);
  if (/\.ya?ml$/.test(file)) return parseYaml(readFileSync(file, "utf8")) as OpenApiDocument;
  return readJson(dir, ...path) as OpenApiDocument;
}

/** An operation's JSON request-body schema; throws when the spec has no such operation. */
export function requestSchema(doc: OpenApiDocument, method: string, path: string): JsonSchema {
  const schema = operation(doc, method, path).requestBody?.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`${method} ${path} has no JSON request body in ${doc.info.version}`);
  return schema;
}

/** An operation's JSON response schema for one status code. */
export function responseSchema(doc: OpenApiDocument, method: string, path: string, status: number | string): JsonSchema {
  const schema = operation(doc, method, path).responses?.[String(status)]?.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`${method} ${path} has no JSON ${status} response in ${doc.info.version}`);
  return schema;
}

function operation(doc: OpenApiDocument, method: string, path: string): OpenApiOperation {
  const op = doc.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`${method} ${path} is not in spec ${doc.info.version}`);
  return op;
}

/** A component schema by name, e.g. "InstanceStatus". */
export function componentSchema(doc: OpenApiDocument, name: string): JsonSchema {
  const schema = doc.components?.schemas?.[name];
  if (!schema) throw new Error(`component ${name} is not in spec ${doc.info.version}`);
  return schema;
}

/**
 * Validates `value` against `schema`; answers the list of violations ([] when valid), each as
 * "<json path>: <problem>". Covers $ref, nullable, type (incl. arrays of types), properties, required,
 * additionalProperties, items, enum, const, anyOf/oneOf/allOf, min/maxLength, pattern,
 * minimum/maximum, minItems/maxItems. Annotations (format, description, examples) are ignored.
 */
export function validate(doc: OpenApiDocument, schema: JsonSchema, value: unknown, path = "$"): string[] {
  if (typeof schema.$ref === "string") return validate(doc, resolveRef(doc, schema.$ref), value, path);
  // OpenAPI 3.0's `nullable: true` (the Vast files use it; 3.1 writes type: [T, "null"]).
  if (value === null && schema.nullable === true) return [];
  const errors: string[] = [];
  const types = schema.type === undefined ? undefined : ([] as unknown[]).concat(schema.type);
  if (types && !types.some((t) => hasType(value, String(t)))) return [`${path}: expected ${types.join("|")}, got ${typeName(value)}`];
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => deepEqual(e, value))) errors.push(`${path}: ${JSON.stringify(value)} not in enum`);
  if ("const" in schema && !deepEqual(schema.const, value)) errors.push(`${path}: expected const ${JSON.stringify(schema.const)}`);
  if (typeof value === "string") errors.push(...stringErrors(schema, value, path));
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) errors.push(`${path}: below minimum ${schema.minimum}`);
    if (typeof schema.maximum === "number" && value > schema.maximum) errors.push(`${path}: above maximum ${schema.maximum}`);
  }
  if (Array.isArray(value)) errors.push(...arrayErrors(doc, schema, value, path));
  if (isObject(value)) errors.push(...objectErrors(doc, schema, value, path));
  if (Array.isArray(schema.allOf)) for (const sub of schema.allOf) errors.push(...validate(doc, sub as JsonSchema, value, path));
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((sub) => validate(doc, sub as JsonSchema, value, path).length === 0)) {
    errors.push(`${path}: matches none of anyOf`);
  }
  if (Array.isArray(schema.oneOf)) {
    const matches = schema.oneOf.filter((sub) => validate(doc, sub as JsonSchema, value, path).length === 0).length;
    if (matches !== 1) errors.push(`${path}: matches ${matches} of oneOf, expected 1`);
  }
  return errors;
}

function stringErrors(schema: JsonSchema, value: string, path: string): string[] {
  const errors: string[] = [];
  const length = [...value].length;
  if (typeof schema.minLength === "number" && length < schema.minLength) errors.push(`${path}: shorter than ${schema.minLength}`);
  if (typeof schema.maxLength === "number" && length > schema.maxLength) errors.push(`${path}: longer than ${schema.maxLength}`);
  if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value)) errors.push(`${path}: does not match ${schema.pattern}`);
  return errors;
}

function arrayErrors(doc: OpenApiDocument, schema: JsonSchema, value: unknown[], path: string): string[] {
  const errors: string[] = [];
  if (typeof schema.minItems === "number" && value.length < schema.minItems) errors.push(`${path}: fewer than ${schema.minItems} items`);
  if (typeof schema.maxItems === "number" && value.length > schema.maxItems) errors.push(`${path}: more than ${schema.maxItems} items`);
  if (isObject(schema.items)) value.forEach((item, i) => errors.push(...validate(doc, schema.items as JsonSchema, item, `${path}[${i}]`)));
  return errors;
}

function objectErrors(doc: OpenApiDocument, schema: JsonSchema, value: Record<string, unknown>, path: string): string[] {
  const errors: string[] = [];
  const properties = isObject(schema.properties) ? (schema.properties as Record<string, JsonSchema>) : {};
  if (Array.isArray(schema.required)) {
    for (const name of schema.required) if (!(String(name) in value)) errors.push(`${path}: missing required ${String(name)}`);
  }
  for (const [name, item] of Object.entries(value)) {
    const sub = properties[name];
    if (sub) errors.push(...validate(doc, sub, item, `${path}.${name}`));
    else if (schema.additionalProperties === false) errors.push(`${path}: unexpected property ${name}`);
    else if (isObject(schema.additionalProperties)) errors.push(...validate(doc, schema.additionalProperties as JsonSchema, item, `${path}.${name}`));
  }
  return errors;
}

function resolveRef(doc: OpenApiDocument, ref: string): JsonSchema {
  if (!ref.startsWith("#/")) throw new Error(`only local $refs are supported, got ${ref}`);
  let node: unknown = doc;
  for (const part of ref.slice(2).split("/")) {
    node = isObject(node) ? node[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  }
  if (!isObject(node)) throw new Error(`unresolved $ref ${ref}`);
  return node;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "array":
      return Array.isArray(value);
    case "object":
      return isObject(value);
    default:
      return typeof value === type;
  }
}

function typeName(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
