// The bench floor route exists only for `npm run bench`: without CRABBOX_BENCH=1 it is
// indistinguishable from an unknown route (404 before auth), and it is never documented.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../src/api/app";
import { call, mintToken } from "../../support/api";

const LEASE_ID = "benchfloor000001";
const FLOOR = `/v1/_bench/floor/${LEASE_ID}`;

let token: string;
beforeAll(async () => {
  token = await mintToken("bencher");
});

describe("without CRABBOX_BENCH", () => {
  it("answers 404 route_not_found with a valid token, without one, and on any method", async () => {
    for (const options of [{ token, body: {} }, { body: {} }, {}]) {
      const res = await call("POST", FLOOR, options);
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe("route_not_found");
    }
    const get = await call("GET", "/v1/_bench/anything", { token });
    expect(get.status).toBe(404);
    expect(get.json.error.code).toBe("route_not_found");
  });

  it("is not in the OpenAPI document", async () => {
    const res = await call("GET", "/v1/openapi.json");
    expect(Object.keys(res.json.paths).some((path) => path.includes("_bench"))).toBe(false);
  });
});

describe("with CRABBOX_BENCH=1", () => {
  const benchEnv = { ...env, CRABBOX_BENCH: "1" } as Env;
  async function floor(headers: Record<string, string>) {
    const ctx = createExecutionContext();
    const request = new Request(`https://crabbox.test${FLOOR}`, { method: "POST", headers, body: "{}" });
    const response = await createApp().fetch(request, benchEnv, ctx);
    await waitOnExecutionContext(ctx);
    return { status: response.status, json: (await response.json()) as any };
  }

  it("authenticates, then makes one no-op RPC to the lease's object", async () => {
    const ok = await floor({ authorization: `Bearer ${token}`, "content-type": "application/json" });
    expect(ok).toEqual({ status: 200, json: { pong: true } });
    const anonymous = await floor({ "content-type": "application/json" });
    expect(anonymous.status).toBe(401);
  });
});
