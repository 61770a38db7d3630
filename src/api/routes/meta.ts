// Health, identity, the OpenAPI document and the configured providers (with doctor/catalog).

import { providerInfo } from "../../providers/info";
import { Catalog, DoctorReport, Health, ProviderList, Whoami } from "../../contract/meta";
import { openApiDocument } from "../../contract/openapi";
import { providerConfig, providerFactories } from "../../providers/registry";
import { adapterForRequest } from "../lease-request";
import { providerFailure } from "../provider-failure";
import { attributionCheck } from "../../sweep/attribution";
import { route, type RouteSpec } from "../route";

export const VERSION = "0.1.0";

export function metaRoutes(allRoutes: () => readonly RouteSpec[]) {
  return [
    route({
      method: "get",
      path: "/v1/health",
      summary: "Liveness and deployment id",
      auth: "none",
      responses: { 200: Health },
      errors: [],
      handler: async (c) => c.json({ ok: true, deploymentId: c.env.CRABBOX_DEPLOYMENT_ID, version: VERSION }),
    }),
    route({
      method: "get",
      path: "/v1/openapi.json",
      summary: "This API's OpenAPI 3.1 document",
      auth: "none",
      responses: { 200: undefined },
      errors: [],
      handler: async (c) => c.json(openApiDocument(allRoutes(), VERSION)),
    }),
    route({
      method: "get",
      path: "/v1/whoami",
      summary: "The caller's identity",
      auth: "user",
      responses: { 200: Whoami },
      errors: [401],
      handler: async (c) => c.json(c.get("principal")),
    }),
    route({
      method: "get",
      path: "/v1/providers",
      summary: "Providers this coordinator knows, their capabilities and whether they are configured",
      auth: "user",
      responses: { 200: ProviderList },
      errors: [401],
      handler: async (c) => {
        const config = providerConfig(c.env);
        return c.json({ providers: providerFactories().map((factory) => providerInfo(factory, config)).filter((p) => p.configured) });
      },
    }),
    route({
      method: "get",
      path: "/v1/providers/:name/doctor",
      summary: "Read-only checks of a provider's account and configuration",
      auth: "user",
      responses: { 200: DoctorReport },
      errors: [400, 401, 502, 503],
      handler: async (c) => {
        const name = c.req.param("name")!;
        const adapter = adapterForRequest(c.env, name);
        const checks = await adapter.doctor().catch((err) => providerFailure(c.env, err));
        // Without markers, only the coordinator's records tell ours apart: count the rest.
        if (adapter.capabilities.ownership === "ledger" && checks.every((check) => check.status !== "fail")) checks.push(await attributionCheck(c.env, adapter));
        return c.json({ provider: name, ok: checks.every((check) => check.status !== "fail"), checks });
      },
    }),
    route({
      method: "get",
      path: "/v1/providers/:name/catalog",
      summary: "Instance types, prices and regions with capacity",
      auth: "user",
      responses: { 200: Catalog },
      errors: [400, 401, 502, 503],
      handler: async (c) => {
        const name = c.req.param("name")!;
        const entries = await adapterForRequest(c.env, name).catalog().catch((err) => providerFailure(c.env, err));
        return c.json({ provider: name, entries });
      },
    }),
  ];
}
