// Leases on Lambda Cloud end to end inside workerd: the coordinator's API and LeaseObject drive
// the real Lambda adapter against the emulator over loopback, with the SSH banner probe hitting
// the emulated machine. After every test the emulator holds no instance and no key of ours.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ADMIN_TOKEN, call, leaseStub, mintToken, sshPublicKey, useFakeClock } from "../../support/api";
import { driveUntil, inState } from "../../support/drive";
import { leaseHandle } from "../../../src/providers/lambda/marker";
import { sweepOrphans } from "../../../src/sweep/orphans";

const API = (env as unknown as Record<string, string>).LAMBDA_BASE_URL!;
const CONTROL = `${API.replace(/\/api\/v1\/?$/, "")}/_emulator`;
const LAUNCH = "/api/v1/instance-operations/launch";

interface EmulatorState {
  instances: { id: string; status: string; ip?: string; ssh_key_names: string[]; tags?: { key: string; value: string }[] }[];
  sshKeys: { id: string; name: string; public_key: string }[];
  requests: { method: string; path: string; status: number | null }[];
}

async function control(path: string, body?: unknown): Promise<any> {
  const init = body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } };
  const response = await fetch(`${CONTROL}${path}`, init);
  expect(response.ok).toBe(true);
  return response.json();
}
const emulator = () => control("/state") as Promise<EmulatorState>;
const live = async () => (await emulator()).instances.filter((i) => i.status !== "terminated");

let token: string;
let n = 0;
beforeEach(async () => {
  await control("/reset", {});
  await control("/config", { bootMs: 0, terminateMs: 0, launchIntervalMs: 0 });
  useFakeClock();
  token = await mintToken(`gpu-user${++n}`);
});

afterEach(async () => {
  vi.useRealTimers();
  expect(await live()).toEqual([]);
  expect((await emulator()).sshKeys).toEqual([]);
});

async function createLease(extra: Record<string, unknown> = {}) {
  const key = await sshPublicKey();
  const res = await call("POST", "/v1/leases", { token, body: { provider: "lambda", sshPublicKey: key, ...extra } });
  expect(res.status, res.text).toBe(201);
  return { lease: res.json, key };
}

async function releaseAndDrain(id: string) {
  await call("POST", `/v1/leases/${id}/release`, { token });
  return driveUntil(id, token, inState("released", "failed"));
}

describe("leases on the Lambda emulator", () => {
  it("create → ready (SSH banner) → ack → release terminates the instance and deletes the key", async () => {
    const { lease, key } = await createLease({ type: "gpu_1x_a10", region: "us-east-1" });
    expect(lease.type).toBe("gpu_1x_a10");
    const ready = await driveUntil(lease.id, token, inState("ready"));
    const [instance] = await live();
    expect(instance!.status).toBe("active");
    expect(ready.resourceId).toBe(instance!.id);
    expect(ready.endpoint).toEqual({ kind: "ssh", host: instance!.ip, port: Number(env.LAMBDA_SSH_PORT), user: "ubuntu" });
    // The machine carries the lease's own key, named after deployment and lease.
    const keys = (await emulator()).sshKeys;
    expect(keys).toHaveLength(1);
    expect(keys[0]!.name).toContain(lease.id);
    expect(keys[0]!.public_key.trim()).toBe(key);
    expect(instance!.ssh_key_names).toEqual([keys[0]!.name]);
    expect(instance!.tags).toEqual(expect.arrayContaining([{ key: "crabbox-lease", value: lease.id }]));

    expect((await call("POST", `/v1/leases/${lease.id}/ack`, { token })).json.state).toBe("active");
    const final = await releaseAndDrain(lease.id);
    expect(final.state).toBe("released");
    const paths = (await emulator()).requests.map((r) => `${r.method} ${r.path}`);
    expect(paths).toContain("POST /api/v1/instance-operations/terminate");
    expect(paths.some((p) => p.startsWith("DELETE /api/v1/ssh-keys/"))).toBe(true);
  });

  it("is not ready while the machine boots: the probe needs the real SSH banner", async () => {
    await control("/config", { bootMs: 60_000 });
    const { lease } = await createLease();
    // Unnamed type and region are the configured defaults, recorded on the lease.
    expect([lease.type, lease.region]).toEqual([env.LAMBDA_DEFAULT_TYPE, env.LAMBDA_DEFAULT_REGION]);
    await driveUntil(lease.id, token, (l) => l.resourceId !== undefined);
    const booting = await call("GET", `/v1/leases/${lease.id}`, { token });
    expect(booting.json.state).toBe("provisioning");
    expect(booting.json.endpoint).toBeUndefined();
    const [instance] = await live();
    await control(`/instances/${instance!.id}/status`, { status: "active" });
    await driveUntil(lease.id, token, inState("ready"));
    await releaseAndDrain(lease.id);
  });

  it("a lost launch response ends with exactly one instance, bound to the right lease, later terminated", async () => {
    await control("/faults", { faults: [{ method: "POST", path: LAUNCH, kind: "lost_response" }] });
    const { lease } = await createLease();
    const ready = await driveUntil(lease.id, token, inState("ready"));
    const instances = await live();
    expect(instances).toHaveLength(1);
    expect(ready.resourceId).toBe(instances[0]!.id);
    expect(instances[0]!.ssh_key_names[0]).toContain(lease.id);
    const launches = (await emulator()).requests.filter((r) => r.path === LAUNCH);
    expect(launches).toHaveLength(1);
    const events = (await call("GET", `/v1/leases/${lease.id}/events`, { token })).json.events.map((e: any) => e.message);
    expect(events.join("\n")).toMatch(/recovery by handle: found/);
    await releaseAndDrain(lease.id);
  });

  it("a launch rate limit (429) does not fail the lease", async () => {
    await control("/faults", { faults: [{ method: "POST", path: LAUNCH, kind: "rate_limit" }] });
    const { lease } = await createLease();
    const ready = await driveUntil(lease.id, token, inState("ready", "failed"));
    expect(ready.state).toBe("ready");
    expect(await live()).toHaveLength(1);
    await releaseAndDrain(lease.id);
  });

  it("a provider rate limit on the price read answers 503 provider_busy with Retry-After, and creates nothing", async () => {
    await control("/faults", { faults: [{ method: "GET", path: "/api/v1/instance-types", kind: "rate_limit" }] });
    const res = await call("POST", "/v1/leases", { token, body: { provider: "lambda", sshPublicKey: await sshPublicKey() } });
    expect(res.status, res.text).toBe(503);
    expect(res.json.error).toMatchObject({ code: "provider_busy", message: expect.stringContaining("nothing was created") });
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await call("GET", "/v1/leases", { token })).json.leases).toEqual([]);
    // The same request again, once the provider has calmed down, is an ordinary create.
    const again = await createLease();
    await driveUntil(again.lease.id, token, inState("ready"));
    await releaseAndDrain(again.lease.id);
  });

  it("a capacity error fails the lease with a clear reason and leaves nothing", async () => {
    await control("/config", { capacity: { "us-east-1": { gpu_1x_a10: 0 } } });
    const { lease } = await createLease({ type: "gpu_1x_a10", region: "us-east-1" });
    const final = await driveUntil(lease.id, token, inState("failed", "released"));
    expect(final.state).toBe("failed");
    expect(final.endReason).toBe("provisioning_failed");
    expect(final.failure.code).toBe("provider_capacity");
    expect(final.failure.message).not.toContain(env.LAMBDA_API_KEY);
  });

  it("a preempted machine ends its lease and leaves nothing", async () => {
    const { lease } = await createLease();
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    const [instance] = await live();
    await control(`/instances/${instance!.id}/status`, { status: "preempted" });
    const final = await driveUntil(lease.id, token, inState("released"));
    expect(final.endReason).toBe("provider_lost");
  });

  it("never stores, returns or logs the provider key, even when the provider echoes it back", async () => {
    const apiKey = env.LAMBDA_API_KEY!;
    const echo = `invalid key ${apiKey}; user_data was {"user_data": "s3cret-script"}`;
    await control("/faults", { faults: [{ method: "POST", path: LAUNCH, kind: "status", status: 401, code: "global/invalid-api-key", message: echo }] });
    const { lease } = await createLease();
    const final = await driveUntil(lease.id, token, inState("failed", "released"));
    expect(final.failure.code).toBe("provider_auth");

    const events = await call("GET", `/v1/leases/${lease.id}/events`, { token });
    const stored = await runInDurableObject(leaseStub(lease.id), (_instance, state) =>
      JSON.stringify([state.storage.sql.exec("SELECT * FROM lease").toArray(), state.storage.sql.exec("SELECT * FROM events").toArray()]),
    );
    const indexed = JSON.stringify((await env.DB.prepare("SELECT * FROM leases").all()).results);
    const tokens = JSON.stringify((await env.DB.prepare("SELECT * FROM tokens").all()).results);
    for (const text of [JSON.stringify(final), events.text, stored, indexed, tokens]) {
      expect(text).not.toContain(apiKey);
      expect(text).not.toContain(ADMIN_TOKEN);
      expect(text).not.toContain(token.split("_")[2]);
    }
    expect(stored).toContain("[redacted]");
  });

  it("one 404 on the lease's own instance during release still terminates it", async () => {
    const { lease } = await createLease();
    const ready = await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    await control("/faults", { faults: [{ method: "GET", path: `/api/v1/instances/${ready.resourceId}`, kind: "status", status: 404, times: 3 }] });
    const final = await releaseAndDrain(lease.id);
    expect(final.state).toBe("released");
    // afterEach: nothing live, no key left.
  });

  it("a 404 without the instance's does-not-exist code never ends a live lease", async () => {
    const { lease } = await createLease();
    const ready = await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    const path = `/api/v1/instances/${ready.resourceId}`;
    await control("/faults", { faults: [{ method: "GET", path, kind: "status", status: 404, code: "global/not-found", message: "no route" }] });
    vi.setSystemTime(Date.now() + 61_000);
    await runDurableObjectAlarm(leaseStub(lease.id));
    expect((await call("GET", `/v1/leases/${lease.id}`, { token })).json.state).toBe("active");
    // One genuine does-not-exist answer is looked at again before the machine is given up.
    await control("/faults", { faults: [{ method: "GET", path, kind: "status", status: 404 }] });
    vi.setSystemTime(Date.now() + 61_000);
    await runDurableObjectAlarm(leaseStub(lease.id));
    vi.setSystemTime(Date.now() + 6_000);
    await runDurableObjectAlarm(leaseStub(lease.id));
    expect((await call("GET", `/v1/leases/${lease.id}`, { token })).json.state).toBe("active");
    await releaseAndDrain(lease.id);
  });

  it("an acknowledged lease is watched through the provider, not by SSH connections", async () => {
    const { lease } = await createLease();
    const ready = await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    const machine = async () => (await control("/state")).machines.find((m: any) => m.id === ready.resourceId);
    const before = (await machine()).connections;
    for (let i = 0; i < 5; i++) {
      vi.setSystemTime(Date.now() + 61_000);
      await runDurableObjectAlarm(leaseStub(lease.id));
    }
    expect((await machine()).connections).toBe(before);
    const polls = (await emulator()).requests.filter((r) => r.method === "GET" && r.path === `/api/v1/instances/${ready.resourceId}`);
    expect(polls.length).toBeGreaterThanOrEqual(5);
    await releaseAndDrain(lease.id);
  });
});

describe("side objects on the Lambda emulator", () => {
  const vars = env as unknown as Record<string, string>;
  const addKey = async (name: string) => {
    const res = await fetch(`${API}/ssh-keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${vars.LAMBDA_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ name, public_key: await sshPublicKey() }),
    });
    expect(res.status).toBe(200);
  };
  const lambdaSweep = async (dryRun: boolean) => (await sweepOrphans(env, Date.now(), { trigger: "admin", dryRun, providers: ["lambda"] })).providers[0]!;
  const keyNames = async () => (await emulator()).sshKeys.map((k) => k.name).sort();

  it("the sweep removes a key object left by a lease that ended; a live lease's, an unknown lease's and another deployment's stay", async () => {
    const { lease: live } = await createLease();
    await driveUntil(live.id, token, inState("ready"));
    const { lease: ended } = await createLease();
    await driveUntil(ended.id, token, inState("ready"));
    expect((await releaseAndDrain(ended.id)).state).toBe("released");
    // As if the ended lease's key delete had been lost: its key object is back in the account.
    const endedKey = leaseHandle(vars.CRABBOX_DEPLOYMENT_ID!, ended.id);
    const unknownKey = leaseHandle(vars.CRABBOX_DEPLOYMENT_ID!, "unknownlease0001");
    const foreignKey = leaseHandle("another-deployment", "otherlease000001");
    for (const name of [endedKey, unknownKey, foreignKey, "someone-elses-key"]) await addKey(name);

    const dry = await lambdaSweep(true);
    expect(dry.sideObjects).toMatchObject({ listed: 3, stranded: 2, removed: 0 });
    expect(dry.sideObjects!.objects).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: "ssh_key", leaseId: ended.id, action: "dry_run" }),
        expect.objectContaining({ kind: "ssh_key", leaseId: "unknownlease0001", action: "reported" }),
      ]),
    );
    expect(await keyNames()).toHaveLength(5);

    const real = await lambdaSweep(false);
    expect(real.sideObjects).toMatchObject({ listed: 3, stranded: 2, removed: 1 });
    expect(await keyNames()).toEqual([foreignKey, leaseHandle(vars.CRABBOX_DEPLOYMENT_ID!, live.id), "someone-elses-key", unknownKey].sort());

    // Tidy up for the suite's own check: the live lease's key goes with its release.
    expect((await releaseAndDrain(live.id)).state).toBe("released");
    const api = { authorization: `Bearer ${vars.LAMBDA_API_KEY}` };
    for (const key of (await emulator()).sshKeys) await fetch(`${API}/ssh-keys/${key.id}`, { method: "DELETE", headers: api });
  });
});
