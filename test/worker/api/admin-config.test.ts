// GET /v1/admin/config: the effective configuration for admins; credentials never leave as values.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, mintToken } from "../../support/api";

const vars = env as unknown as Record<string, string>;

describe("GET /v1/admin/config", () => {
  it("shows settings with their source and credentials only as configured or missing", async () => {
    const res = await call("GET", "/v1/admin/config", { token: ADMIN_TOKEN });
    expect(res.status).toBe(200);
    const { settings, credentials } = res.json;
    expect(settings).toContainEqual({ name: "MAX_LEASES_PER_OWNER", value: "8", source: "set" });
    expect(settings).toContainEqual({ name: "DEFAULT_TTL", value: "2h", source: "set" });
    expect(settings).toContainEqual({ name: "SEALOS_NAMESPACE", value: vars.SEALOS_NAMESPACE, source: "set" });
    expect(credentials).toContainEqual({ name: "LAMBDA_API_KEY", provider: "lambda", status: "configured" });
    expect(credentials).toContainEqual({ name: "SEALOS_KUBECONFIG", provider: "sealos", status: "missing" });
    expect(credentials).toContainEqual({ name: "TAILSCALE_AUTHKEY", status: "configured" });
    const text = res.text;
    for (const secret of [vars.LAMBDA_API_KEY, vars.VAST_API_KEY, vars.FAL_KEY, vars.CODER_SESSION_TOKEN, vars.SEALOS_TOKEN, vars.TAILSCALE_AUTHKEY, ADMIN_TOKEN]) {
      expect(text).not.toContain(secret);
    }
    expect(settings.map((s: { name: string }) => s.name)).not.toContain("LAMBDA_API_KEY");
  });

  it("is for admins only", async () => {
    const res = await call("GET", "/v1/admin/config", { token: await mintToken("curious") });
    expect(res.status).toBe(403);
  });
});
