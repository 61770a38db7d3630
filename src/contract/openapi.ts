// The OpenAPI 3.1 document, generated from the same route declarations and zod schemas the
// Worker validates with, so the document cannot drift from the behaviour.

import * as z from "zod/mini";
import type { RouteSpec } from "../api/route";
import { ErrorBody } from "./common";

const jsonSchema = (schema: z.ZodMiniType, io: "input" | "output") =>
  z.toJSONSchema(schema, { io, unrepresentable: "any" });

function parameters(spec: RouteSpec) {
  const params: object[] = [...spec.path.matchAll(/:([a-zA-Z]+)/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
  if (spec.query) {
    const schema = jsonSchema(spec.query, "input") as { properties?: Record<string, object>; required?: string[] };
    for (const [name, prop] of Object.entries(schema.properties ?? {})) {
      params.push({ name, in: "query", required: schema.required?.includes(name) ?? false, schema: prop });
    }
  }
  return params;
}

export function openApiDocument(routes: readonly RouteSpec[], version: string) {
  const paths: Record<string, Record<string, object>> = {};
  const errorSchema = jsonSchema(ErrorBody, "output");
  for (const spec of routes) {
    const path = spec.path.replace(/:([a-zA-Z]+)/g, "{$1}");
    const responses: Record<string, object> = {};
    for (const [status, schema] of Object.entries(spec.responses)) {
      responses[status] = { description: "success", ...(schema ? { content: { "application/json": { schema: jsonSchema(schema, "output") } } } : {}) };
    }
    for (const status of spec.errors) {
      responses[String(status)] = { description: "error", content: { "application/json": { schema: errorSchema } } };
    }
    (paths[path] ??= {})[spec.method] = {
      summary: spec.summary,
      security: spec.auth === "none" ? [] : [{ bearer: [] }],
      parameters: parameters(spec),
      ...(spec.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(spec.body, "input") } } } } : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Crabbox lease coordinator", version },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    paths,
  };
}
