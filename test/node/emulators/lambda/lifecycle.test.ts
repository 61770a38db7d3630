// An instance's life in the emulator, checked with the stock OpenSSH client: booting (no ip, no
// SSH), active (ip, SSH for the launch key and `ubuntu` only), terminating, terminated, 404;
// plus the capacity table, the launch throttle, the quota and reset.
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LambdaEmulator } from "../../../emulators/lambda/index.ts";
import { isListening, makeKeyPair, scratchDir, ssh, type KeyPair, type SshTarget } from "../ssh-client.ts";
import { addKey, apiClient, launch, startFastEmulator, waitFor, type ApiClient } from "./helpers.ts";

let emulator: LambdaEmulator;
let api: ApiClient;
let dir: string;
let key: KeyPair;
let otherKey: KeyPair;

beforeAll(async () => {
  emulator = await startFastEmulator();
  api = apiClient(emulator);
  dir = await scratchDir();
  key = await makeKeyPair(dir, "lease");
  otherKey = await makeKeyPair(dir, "other-lease");
});
afterAll(() => emulator?.close());
beforeEach(async () => {
  await emulator.reset();
  await addKey(api, "lease-1", key.publicKey);
  await addKey(api, "lease-2", otherKey.publicKey);
});

function target(ip: string, overrides: Partial<SshTarget> = {}): SshTarget {
  return { host: ip, port: emulator.sshPort, user: "ubuntu", key, knownHosts: join(dir, "known_hosts"), ...overrides };
}

describe("lifecycle", () => {
  it("boots without an ip or SSH, then is active with SSH on its ip", async () => {
    emulator.configure({ bootMs: 400 });
    const id = await launch(api, "lease-1");
    const booting = (await api.get(`/instances/${id}`)).body.data;
    expect(booting.status).toBe("booting");
    expect(booting).not.toHaveProperty("ip");
    // The address it will get is already fixed; nothing answers there yet.
    const machine = emulator.state().machines.find((m) => m.id === id)!;
    expect(machine).toMatchObject({ port: emulator.sshPort, listening: false });
    const address = machine.host;
    const refused = await ssh(target(address), { command: "echo hello" });
    expect(refused.code).toBe(255);
    expect(refused.stderr).toContain("Connection refused");

    const active = await waitFor(api, id, "active");
    expect(active).toMatchObject({ ip: address, private_ip: expect.any(String), ssh_key_names: ["lease-1"] });
    const result = await ssh(target(active.ip), { command: "echo hello; exit 3" });
    expect(result).toMatchObject({ code: 3, stdout: "hello\n" });
  });

  it("accepts only the launch key and only ubuntu", async () => {
    const id = await launch(api, "lease-1");
    const { ip } = await waitFor(api, id, "active");
    expect((await ssh(target(ip), { command: "true" })).code).toBe(0);
    const wrongKey = await ssh(target(ip, { key: otherKey }), { command: "true" });
    expect(wrongKey.code).toBe(255);
    expect(wrongKey.stderr).toContain("Permission denied (publickey)");
    for (const user of ["root", "lambda"]) {
      const wrongUser = await ssh(target(ip, { user }), { command: "true" });
      expect(wrongUser.code).toBe(255);
      expect(wrongUser.stderr).toContain("Permission denied (publickey)");
    }
  });

  it("keeps the launch key on the machine after the key object is deleted", async () => {
    const id = await launch(api, "lease-1");
    const { ip } = await waitFor(api, id, "active");
    const keyId = (await api.get("/ssh-keys")).body.data.find((k: { name: string }) => k.name === "lease-1").id;
    expect((await api.call("DELETE", `/ssh-keys/${keyId}`)).status).toBe(200);
    expect((await ssh(target(ip), { command: "true" })).code).toBe(0);
  });

  it("terminates: SSH stops at once, terminating → terminated → 404", async () => {
    emulator.configure({ terminateMs: 300, terminatedRetentionMs: 300 });
    const id = await launch(api, "lease-1");
    const { ip } = await waitFor(api, id, "active");
    const res = await api.post("/instance-operations/terminate", { instance_ids: [id] });
    expect(res.status).toBe(200);
    expect(res.body.data.terminated_instances).toEqual([expect.objectContaining({ id, status: "terminating" })]);
    expect(await isListening(ip, emulator.sshPort)).toBe(false);
    const refused = await ssh(target(ip), { command: "true" });
    expect(refused.stderr).toContain("Connection refused");
    await waitFor(api, id, "terminated");
    expect((await api.get("/instances")).body.data.map((i: { id: string }) => i.id)).toEqual([id]);
    await waitFor(api, id, "gone");
    const gone = await api.get(`/instances/${id}`);
    expect(gone.body.error.code).toBe("global/object-does-not-exist");
    expect((await api.get("/instances")).body.data).toEqual([]);
  });

  it("terminates a booting instance before it ever listens", async () => {
    emulator.configure({ bootMs: 300 });
    const id = await launch(api, "lease-1");
    await api.post("/instance-operations/terminate", { instance_ids: [id] });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(emulator.state().machines.filter((m) => m.listening)).toEqual([]);
    expect((await api.get(`/instances/${id}`)).status).toBe(404);
  });

  it("refuses to terminate unknown ids, terminating nothing", async () => {
    const id = await launch(api, "lease-1");
    const res = await api.post("/instance-operations/terminate", { instance_ids: [id, "f".repeat(32)] });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("global/object-does-not-exist");
    expect((await api.get(`/instances/${id}`)).body.data.status).toBe("active");
  });

  it("reports forced statuses; a preempted machine stops answering", async () => {
    const id = await launch(api, "lease-1");
    const { ip } = await waitFor(api, id, "active");
    const force = (status: string) =>
      fetch(`${emulator.url}/_emulator/instances/${id}/status`, { method: "POST", body: JSON.stringify({ status }) });
    expect((await force("unhealthy")).status).toBe(200);
    expect((await api.get(`/instances/${id}`)).body.data.status).toBe("unhealthy");
    expect((await force("preempted")).status).toBe(200);
    expect((await api.get(`/instances/${id}`)).body.data.status).toBe("preempted");
    expect(await isListening(ip, emulator.sshPort)).toBe(false);
    expect((await force("sleeping")).status).toBe(400);
  });
});

describe("capacity, throttle and quota", () => {
  it("launching takes capacity and terminating gives it back", async () => {
    emulator.configure({ capacity: { "us-east-1": { gpu_1x_a10: 1 } } });
    const id = await launch(api, "lease-1");
    const full = await api.post("/instance-operations/launch", {
      region_name: "us-east-1", instance_type_name: "gpu_1x_a10", ssh_key_names: ["lease-2"],
    });
    expect(full.status).toBe(400);
    expect(full.body.error.code).toBe("instance-operations/launch/insufficient-capacity");
    const regions = (await api.get("/instance-types")).body.data.gpu_1x_a10.regions_with_capacity_available;
    expect(regions.map((r: { name: string }) => r.name)).not.toContain("us-east-1");
    await api.post("/instance-operations/terminate", { instance_ids: [id] });
    await launch(api, "lease-2");
  });

  it("throttles launches to one per launchIntervalMs with HTTP 429", async () => {
    emulator.configure({ launchIntervalMs: 60_000 });
    await launch(api, "lease-1");
    const throttled = await api.post("/instance-operations/launch", {
      region_name: "us-east-1", instance_type_name: "gpu_1x_a10", ssh_key_names: ["lease-2"],
    });
    expect(throttled.status).toBe(429);
    expect(throttled.body).toBe("error code: 1015");
    expect((await api.get("/instances")).body.data).toHaveLength(1);
    // Other endpoints are not affected by the launch throttle.
    expect((await api.get("/instances")).status).toBe(200);
  });

  it("answers global/quota-exceeded beyond the account quota", async () => {
    emulator.configure({ quota: 1 });
    await launch(api, "lease-1");
    const res = await api.post("/instance-operations/launch", {
      region_name: "us-east-1", instance_type_name: "gpu_1x_a10", ssh_key_names: ["lease-2"],
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: "global/quota-exceeded", message: expect.any(String), suggestion: expect.any(String) });
  });
});

describe("reset", () => {
  it("leaves no instance, key or listening SSH server behind", async () => {
    const ids = [await launch(api, "lease-1"), await launch(api, "lease-2")];
    const ips = await Promise.all(ids.map(async (id) => (await waitFor(api, id, "active")).ip as string));
    for (const ip of ips) expect(await isListening(ip, emulator.sshPort)).toBe(true);
    const res = await fetch(`${emulator.url}/_emulator/reset`, { method: "POST" });
    expect(await res.json()).toEqual({ ok: true });
    for (const ip of ips) expect(await isListening(ip, emulator.sshPort)).toBe(false);
    const state = emulator.state();
    expect(state).toMatchObject({ instances: [], sshKeys: [], machines: [], requests: [] });
    expect(state.config.launchIntervalMs).toBe(0);
  });
});
