// The Vast adapter's edges: every error shape Vast sends classified (plain-text 429, no_such_ask,
// 5xx, auth), `{"instances": null}` as gone, secrets never echoed, listings that fail closed, the
// doctor's account-key warning, and one canonical id per instance across create/recover/inventory.
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { createVastAdapter } from "../../../src/providers/vast";
import { errorKind } from "../../../src/providers/vast/client";
import { ProviderError, type LeaseSpec, type ProviderAdapter } from "../../../src/providers/types";

const KEY = "vast_scripted-key-0123456789";
const SPEC: LeaseSpec = {
  leaseId: "abcdefghijkl0123",
  deploymentId: "test-deploy",
  owner: "alice",
  type: "1x_RTX_4090",
  sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LWZvci1jcmFiYm94 lease",
  ttlMs: 3_600_000,
};
const HANDLE = "crabbox-test-deploy-abcdefghijkl0123";

type Script = (method: string, path: string, body: unknown) => Response | undefined;
let script: Script;
const scripted: typeof fetch = async (input, init) => {
  const url = new URL(String(input));
  const answer = script((init?.method ?? "GET").toUpperCase(), url.pathname, init?.body ? JSON.parse(String(init.body)) : undefined);
  return answer ?? Response.json({ success: false, error: "not_scripted", msg: url.pathname }, { status: 400 });
};

function make(vars: Record<string, string> = {}, fetchFn: typeof fetch = scripted): ProviderAdapter {
  return createVastAdapter({ deploymentId: "test-deploy", vars: { VAST_API_KEY: KEY, VAST_BASE_URL: "https://console.vast.ai", VAST_DEFAULT_TYPE: "1x_RTX_4090", ...vars } }, { fetch: fetchFn });
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

const OFFER = { id: 1, num_gpus: 1, gpu_name: "RTX 4090", dph_total: 0.3, geolocation: "Texas, US", reliability: 0.99, direct_port_count: 10, end_date: 4e9 };

beforeEach(() => {
  script = () => undefined;
});

describe("error shapes", () => {
  it("classifies by status first, then Vast's words", () => {
    expect(errorKind(429, "API requests too frequent")).toBe("rate_limited");
    expect(errorKind(503, "")).toBe("ambiguous");
    expect(errorKind(404, "invalid_args error 404/3603: no_such_ask Instance type by id 1 is not available.")).toBe("capacity");
    expect(errorKind(410, "no_such_ask")).toBe("capacity");
    expect(errorKind(401, "auth_error Invalid user key")).toBe("auth");
    expect(errorKind(404, "not_found Instance not found", ["not_found"])).toBe("not_found");
    expect(errorKind(404, "")).toBe("ambiguous");
    expect(errorKind(400, "invalid_args")).toBe("invalid");
  });

  it("a plain-text 429 without Retry-After is a rate limit with a floor delay", async () => {
    script = () => new Response("API requests too frequent endpoint threshold=2.0", { status: 429, headers: { "content-type": "text/plain" } });
    const err = await failure(make().recover(SPEC, HANDLE));
    expect(err.kind).toBe("rate_limited");
    expect(err.options.retryAfterMs).toBeGreaterThanOrEqual(2_000);
    expect(err.message).toMatch(/too frequent/);
  });

  it("each offer gone moves to the next; all gone is capacity", async () => {
    const tried: string[] = [];
    script = (method, path) => {
      if (path === "/api/v0/bundles/") return Response.json({ offers: [OFFER, { ...OFFER, id: 2 }, { ...OFFER, id: 3 }, { ...OFFER, id: 4 }] });
      if (method === "PUT") {
        tried.push(path);
        return Response.json({ success: false, error: "no_such_ask", msg: "error 410/3907: no_such_ask" }, { status: 410 });
      }
    };
    const err = await failure(make().create(SPEC, { handle: HANDLE, number: 1, firstAt: 0 }));
    expect(err.kind).toBe("capacity");
    expect(tried).toEqual(["/api/v0/asks/1/", "/api/v0/asks/2/", "/api/v0/asks/3/"]);
  });

  it("never echoes the API key or an instance_api_key", async () => {
    script = (method) =>
      method === "PUT"
        ? Response.json({ success: false, error: "server_error", msg: `boom {"instance_api_key": "d15a-secret-instance-key"} with key ${KEY}` }, { status: 500 })
        : Response.json({ offers: [{ ...OFFER, id: 9 }] }); // an offer no other test saw gone
    const err = await failure(make().create(SPEC, { handle: HANDLE, number: 1, firstAt: 0 }));
    expect(err.kind).toBe("ambiguous");
    expect(err.message).not.toContain("d15a-secret-instance-key");
    expect(err.message).not.toContain(KEY);
  });
});

describe("reads", () => {
  it('{"instances": null} is gone, not an error', async () => {
    script = (_m, path) => (path === "/api/v0/instances/77/" ? Response.json({ instances: null }) : undefined);
    expect((await make().inspect({ handle: HANDLE, id: "77" }, SPEC)).phase).toBe("gone");
  });

  it("a stranger's odd instance is skipped; one carrying our marker fails the listing closed", async () => {
    script = () => Response.json({ instances: [{ id: "not-a-number", label: "laptop" }, { id: 5, label: HANDLE, actual_status: "running" }], next_token: null });
    expect(await make().recover(SPEC, HANDLE)).toEqual({ kind: "found", ref: { handle: HANDLE, id: "5" } });
    script = () => Response.json({ instances: [{ id: "odd", label: HANDLE }], next_token: null });
    expect((await failure(make().recover(SPEC, HANDLE))).kind).toBe("ambiguous");
  });

  it("maps every documented actual_status, and never trusts intended_status for readiness", async () => {
    const { instanceStatus } = await import("../../../src/providers/vast");
    const phase = (fields: Record<string, unknown>) => instanceStatus({ id: 1, ...fields } as never).phase;
    expect(phase({ actual_status: null, intended_status: "running" })).toBe("pending");
    expect(phase({ actual_status: "loading" })).toBe("pending");
    expect(phase({ actual_status: "running", public_ipaddr: "1.2.3.4", ports: { "22/tcp": [{ HostPort: "4022" }] } })).toBe("running");
    expect(phase({ actual_status: "running" })).toBe("pending"); // no route yet
    expect(phase({ actual_status: "stopped", intended_status: "stopped" })).toBe("stopped");
    expect(phase({ actual_status: "stopped", intended_status: "running", is_bid: true })).toBe("failed");
    for (const s of ["exited", "unknown", "offline"]) expect(phase({ actual_status: s })).toBe("failed");
    expect(phase({ actual_status: "frozen" })).toBe("unknown");
    expect(phase({ actual_status: "something-new" })).toBe("unknown");
  });

  it("falls back to Vast's SSH proxy as a gateway route when there is no direct port", async () => {
    const { instanceStatus } = await import("../../../src/providers/vast");
    const status = instanceStatus({ id: 1, actual_status: "running", ssh_host: "ssh4.vast.ai", ssh_port: 12345, image_runtype: "ssh ssh_proxy" } as never);
    expect(status).toMatchObject({ phase: "running", route: "gateway", endpoint: { host: "ssh4.vast.ai", port: 12345, user: "root" } });
  });
});

describe("against the emulator", () => {
  const vars = env as unknown as Record<string, string>;
  const emulated = () => make({ VAST_BASE_URL: vars.VAST_BASE_URL!, VAST_API_KEY: vars.VAST_API_KEY! }, (input, init) => fetch(input, init));
  const control = (path: string, body?: unknown) =>
    fetch(`${(env as unknown as Record<string, string>).VAST_BASE_URL}/_emulator${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });

  beforeEach(async () => {
    await control("/reset", {});
  });

  it("names one instance by the same id in create, recover and inventory", async () => {
    const vast = emulated();
    const ref = await vast.create(SPEC, { handle: HANDLE, number: 1, firstAt: 0 });
    expect(await vast.recover(SPEC, HANDLE)).toEqual({ kind: "found", ref: { handle: HANDLE, id: ref.id } });
    const listed = (await vast.inventory()).items.find((i) => i.marker?.leaseId === SPEC.leaseId);
    expect(listed).toMatchObject({ id: ref.id, marker: { deploymentId: "test-deploy", handle: HANDLE } });
    for (let i = 0; i < 5 && !(await vast.release(ref, "destroy", SPEC)).done; i++);
    expect((await vast.inventory()).items).toEqual([]);
  });

  it("doctor warns when the account has an account-level key", async () => {
    const vast = emulated();
    expect((await vast.doctor()).filter((c) => c.status !== "ok")).toEqual([]);
    await control("/config", { accountKey: SPEC.sshPublicKey });
    expect((await vast.doctor()).find((c) => c.name === "account_keys")).toMatchObject({ status: "warn" });
  });

  it("catalogs offers by type with the cheapest price and regions", async () => {
    const entries = await emulated().catalog();
    expect(entries.find((e) => e.type === "1x_RTX_4090")).toMatchObject({ priceCentsPerHour: 30, regions: ["CA", "US"], gpus: 1 });
    expect(entries.map((e) => e.type)).toEqual(["1x_H100_SXM", "1x_RTX_4090", "2x_RTX_4090", "8x_H100_SXM"]);
  });

  it("refuses types, regions and prices it cannot take before any call", async () => {
    const vast = emulated();
    expect((await vast.validate({ ...SPEC, type: "RTX 4090" }))[0]).toMatch(/1x_RTX_4090/);
    expect((await vast.validate({ ...SPEC, region: "usa" }))[0]).toMatch(/country code/);
    expect((await vast.validate({ ...SPEC, maxPricePerHour: 100 }))[0]).toMatch(/at most/);
    expect(await vast.validate(SPEC)).toEqual([]);
  });
});
