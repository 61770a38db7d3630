// Fault injection and the /_emulator control plane, driven over HTTP as a workerd test would:
// each fault kind does what CONTROL.md promises, and fires exactly `times` times.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LambdaEmulator } from "../../../emulators/lambda/index.ts";
import { makeKeyPair, scratchDir } from "../ssh-client.ts";
import { LAUNCH_DEFAULTS, addKey, apiClient, startFastEmulator, type ApiClient } from "./helpers.ts";

let emulator: LambdaEmulator;
let api: ApiClient;
const LAUNCH_PATH = "/api/v1/instance-operations/launch";
const LAUNCH_BODY = { ...LAUNCH_DEFAULTS, ssh_key_names: ["lease-1"] };

beforeAll(async () => {
  emulator = await startFastEmulator();
  api = apiClient(emulator);
});
afterAll(() => emulator?.close());
beforeEach(async () => {
  await emulator.reset();
  const key = await makeKeyPair(await scratchDir(), "lease");
  await addKey(api, "lease-1", key.publicKey);
});

async function control(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${emulator.url}/_emulator${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function addFaults(...faults: Record<string, unknown>[]): Promise<void> {
  const res = await control("POST", "/faults", { faults });
  expect(res.status).toBe(200);
}

const instanceCount = async () => (await api.get("/instances")).body.data.length as number;

describe("fault kinds", () => {
  it("status: answers the status with the provider envelope and does not act", async () => {
    await addFaults({ method: "POST", path: LAUNCH_PATH, kind: "status", status: 503 });
    const res = await api.post("/instance-operations/launch", LAUNCH_BODY);
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    expect(await instanceCount()).toBe(0);
    expect((await api.post("/instance-operations/launch", LAUNCH_BODY)).status).toBe(200);
  });

  it("status: 500 is global/internal-error, and code/message can be overridden", async () => {
    await addFaults(
      { path: "/api/v1/instances", kind: "status", status: 500 },
      { path: "/api/v1/instances", kind: "status", status: 403, code: "global/account-inactive", message: "nope" },
    );
    expect((await api.get("/instances")).body.error.code).toBe("global/internal-error");
    const res = await api.get("/instances");
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: "global/account-inactive", message: "nope" });
  });

  it("timeout: holds the request until the client gives up, without acting", async () => {
    await addFaults({ method: "POST", path: LAUNCH_PATH, kind: "timeout" });
    const call = api.call("POST", "/instance-operations/launch", LAUNCH_BODY, { signal: AbortSignal.timeout(300) });
    await expect(call).rejects.toThrow();
    expect(await instanceCount()).toBe(0);
    const logged = emulator.state().requests.find((r) => r.fault === "timeout");
    expect(logged).toMatchObject({ method: "POST", path: LAUNCH_PATH, status: null, body: LAUNCH_BODY });
  });

  it("lost_response: performs the launch, then drops the connection", async () => {
    await addFaults({ method: "POST", path: LAUNCH_PATH, kind: "lost_response" });
    await expect(api.post("/instance-operations/launch", LAUNCH_BODY)).rejects.toThrow();
    const instances = (await api.get("/instances")).body.data;
    expect(instances).toHaveLength(1);
    expect(instances[0].ssh_key_names).toEqual(["lease-1"]);
  });

  it("lost_response: a terminate takes effect though the client saw an error", async () => {
    const id = (await api.post("/instance-operations/launch", LAUNCH_BODY)).body.data.instance_ids[0];
    await addFaults({ path: "/api/v1/instance-operations/terminate", kind: "lost_response" });
    await expect(api.post("/instance-operations/terminate", { instance_ids: [id] })).rejects.toThrow();
    expect((await api.get(`/instances/${id}`)).status).toBe(404);
  });

  it("rate_limit: answers 429 like Lambda's edge does", async () => {
    await addFaults({ path: "/api/v1/ssh-keys", kind: "rate_limit" });
    const res = await api.get("/ssh-keys");
    expect(res.status).toBe(429);
    expect(res.body).toBe("error code: 1015");
  });

  it("capacity: answers insufficient-capacity and creates nothing", async () => {
    await addFaults({ method: "POST", path: LAUNCH_PATH, kind: "capacity" });
    const res = await api.post("/instance-operations/launch", LAUNCH_BODY);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("instance-operations/launch/insufficient-capacity");
    expect(await instanceCount()).toBe(0);
  });

  it("fires `times` times, only for the matching method and path", async () => {
    await addFaults({ method: "GET", path: "/api/v1/instances", kind: "status", status: 502, times: 2 });
    expect((await api.get("/instances/abc")).status).toBe(404);
    expect((await api.get("/instances")).status).toBe(502);
    expect((await api.get("/instances")).status).toBe(502);
    expect((await api.get("/instances")).status).toBe(200);
  });

  it("can be listed and cleared", async () => {
    await addFaults({ path: "/api/v1/instances", kind: "timeout", times: 3 });
    expect(await (await control("GET", "/faults")).json()).toEqual({
      faults: [{ path: "/api/v1/instances", kind: "timeout", times: 3 }],
    });
    await control("DELETE", "/faults");
    expect((await api.get("/instances")).status).toBe(200);
  });

  it("refuses malformed faults", async () => {
    for (const faults of [[{ path: "/x", kind: "explode" }], [{ path: "/x", kind: "status" }], [{ kind: "timeout" }]]) {
      expect((await control("POST", "/faults", { faults })).status).toBe(400);
    }
  });
});

describe("account limits (switchable per test)", () => {
  it("the general limit answers 429 past its burst, on every route, and refills", async () => {
    emulator.configure({ requestsPerSecond: 2, requestBurst: 3 });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await api.get(i % 2 ? "/ssh-keys" : "/instances")).status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses).toContain(429);
    await new Promise((r) => setTimeout(r, 600));
    expect((await api.get("/instances")).status).toBe(200);
    emulator.configure({ requestsPerSecond: null });
    for (let i = 0; i < 10; i++) expect((await api.get("/instances")).status).toBe(200);
  });

  it("the launch limit holds one per interval, or N per minute, as configured", async () => {
    emulator.configure({ launchIntervalMs: 0, launchesPerMinute: 2 });
    const launches = [];
    for (let i = 0; i < 3; i++) launches.push((await api.post("/instance-operations/launch", LAUNCH_BODY)).status);
    expect(launches).toEqual([200, 200, 429]);
    await emulator.reset();
    await addKey(api, "lease-1", (await makeKeyPair(await scratchDir(), "again")).publicKey);
    emulator.configure({ launchIntervalMs: 60_000, launchesPerMinute: null });
    const spaced = [];
    for (let i = 0; i < 2; i++) spaced.push((await api.post("/instance-operations/launch", LAUNCH_BODY)).status);
    expect(spaced).toEqual([200, 429]);
  });
});

describe("control plane", () => {
  it("reports state: wire-shaped instances and keys, and the request log", async () => {
    await api.post("/instance-operations/launch", LAUNCH_BODY);
    const state = (await (await control("GET", "/state")).json()) as any;
    expect(state.instances).toEqual([expect.objectContaining({ status: "active", ssh_key_names: ["lease-1"] })]);
    expect(state.sshKeys).toEqual([expect.objectContaining({ name: "lease-1", public_key: expect.any(String) })]);
    expect(state.requests.at(-1)).toEqual({
      method: "POST", path: LAUNCH_PATH, query: {}, body: LAUNCH_BODY, status: 200,
    });
  });

  it("merges config and refuses unknown or invalid settings", async () => {
    expect((await control("POST", "/config", { bootMs: 5, capacity: { "us-west-1": { gpu_1x_a10: 7 } } })).status).toBe(200);
    const config = emulator.state().config;
    expect(config.bootMs).toBe(5);
    expect(config.capacity["us-west-1"]).toEqual({ gpu_1x_a10: 7 });
    expect(config.capacity["us-east-1"]?.gpu_1x_a10).toBe(4);
    for (const body of [{ bootMS: 1 }, { bootMs: -1 }, { capacity: { "mars-1": { gpu_1x_a10: 1 } } }]) {
      expect((await control("POST", "/config", body)).status).toBe(400);
    }
    expect(() => emulator.configure({ launchIntervalMs: -5 })).toThrow(/launchIntervalMs/);
  });

  it("answers 404 when forcing the status of an unknown instance", async () => {
    expect((await control("POST", "/instances/nope/status", { status: "preempted" })).status).toBe(404);
  });
});
