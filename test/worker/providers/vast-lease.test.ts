// Leases on Vast.ai end to end inside workerd: the coordinator's API and LeaseObject drive the
// real Vast adapter against the emulator over loopback (offers, rent, per-instance key, direct
// SSH banner). After every test the emulator holds no instance of ours.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { call, leaseStub, mintToken, sshPublicKey, useFakeClock } from "../../support/api";
import { driveUntil, inState } from "../../support/drive";

const BASE = (env as unknown as Record<string, string>).VAST_BASE_URL!;
const MINUTE = 60_000;

async function control(path: string, body?: unknown): Promise<any> {
  const init = body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } };
  const response = await fetch(`${BASE}/_emulator${path}`, init);
  expect(response.ok, await response.clone().text()).toBe(true);
  return response.json();
}
const emulator = () => control("/state");
const instances = async () => (await emulator()).instances as any[];

let token: string;
let n = 0;
beforeEach(async () => {
  await control("/reset", {});
  useFakeClock();
  token = await mintToken(`vast-user${++n}`);
});

afterEach(async () => {
  vi.useRealTimers();
  expect(await instances()).toEqual([]);
});

async function createLease(extra: Record<string, unknown> = {}) {
  const key = await sshPublicKey();
  const res = await call("POST", "/v1/leases", { token, body: { provider: "vast", sshPublicKey: key, ...extra } });
  expect(res.status, res.text).toBe(201);
  return { lease: res.json, key };
}

async function releaseAndDrain(id: string) {
  await call("POST", `/v1/leases/${id}/release`, { token, body: { action: "destroy" } });
  return driveUntil(id, token, inState("released", "failed"));
}

describe("leases on the Vast emulator", () => {
  it("rents the cheapest fitting offer, attaches the lease's key, is ready over direct SSH as root, and destroys on release", async () => {
    const { lease, key } = await createLease({ ttl: "4h" });
    expect(lease.type).toBe("1x_RTX_4090");
    const ready = await driveUntil(lease.id, token, inState("ready"));
    const [instance] = await instances();
    // 1001 is the cheapest RTX 4090 that is reliable, has a direct port and lasts past the TTL.
    expect(instance.label).toContain(lease.id);
    expect(instance.dph_total).toBe(0.35);
    expect(ready.resourceId).toBe(String(instance.id));
    expect(ready.endpoint).toEqual({ kind: "ssh", host: instance.public_ipaddr, port: Number(instance.ports["22/tcp"][0].HostPort), user: "root" });
    const { keys } = await emulator();
    expect(keys.find((k: any) => k.instanceId === instance.id).publicKeys).toEqual([key.trim()]);
    const create = (await emulator()).requests.find((r: any) => r.method === "PUT" && r.path.startsWith("/api/v0/asks/"));
    expect(create.body).toMatchObject({ runtype: "ssh_direct", cancel_unavail: true, label: instance.label, disk: 32 });
    const search = (await emulator()).requests.find((r: any) => r.path === "/api/v0/bundles/");
    expect(search.body).toMatchObject({ gpu_name: { eq: "RTX 4090" }, num_gpus: { eq: 1 }, rented: { eq: false }, direct_port_count: { gte: 1 }, duration: { gte: 4 * 3600 }, type: "on-demand" });
    expect((await call("POST", `/v1/leases/${lease.id}/ack`, { token })).json.state).toBe("active");
    expect((await releaseAndDrain(lease.id)).state).toBe("released");
    expect((await emulator()).offers.available.map((o: any) => o.id)).toContain(1001);
  });

  it("a lost create response ends with exactly one instance, bound and later destroyed", async () => {
    await control("/faults", { faults: [{ method: "PUT", path: "/api/v0/asks/1001/", kind: "lost_response" }] });
    const { lease } = await createLease();
    const ready = await driveUntil(lease.id, token, inState("ready"));
    const all = await instances();
    expect(all).toHaveLength(1);
    expect(ready.resourceId).toBe(String(all[0].id));
    await releaseAndDrain(lease.id);
  });

  it("an offer taken before we could rent it moves on to the next offer", async () => {
    await control("/faults", { faults: [{ method: "PUT", path: "/api/v0/asks/1001/", kind: "capacity" }] });
    const { lease } = await createLease({ ttl: "4h" });
    await driveUntil(lease.id, token, inState("ready"));
    expect((await instances())[0].dph_total).toBe(0.4);
    await releaseAndDrain(lease.id);
  });

  it("no offer at all fails the lease as provider_capacity and leaves nothing", async () => {
    const { lease } = await createLease({ type: "1x_RTX_9999" });
    const final = await driveUntil(lease.id, token, inState("failed", "released"));
    expect(final.state).toBe("failed");
    expect(final.failure.code).toBe("provider_capacity");
  });

  it("a price ceiling above the operator's is refused before any lease exists", async () => {
    const res = await call("POST", "/v1/leases", { token, body: { provider: "vast", sshPublicKey: await sshPublicKey(), maxPricePerHour: 50 } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("invalid_for_provider");
  });

  it("stop parks the same instance with its key detached; resume brings it back with the key", async () => {
    const { lease, key } = await createLease({ releaseAction: "stop", ttl: "24h" });
    const ready = await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    await driveUntil(lease.id, token, inState("parked"));
    const [stopped] = await instances();
    expect(stopped.actual_status).toBe("stopped");
    expect((await emulator()).keys[0].publicKeys).toEqual([]);
    expect((await call("GET", "/v1/providers", { token })).json.providers.find((p: any) => p.name === "vast").capabilities.stoppedBills).toBe(true);
    expect((await call("POST", `/v1/leases/${lease.id}/resume`, { token })).json.state).toBe("provisioning");
    const again = await driveUntil(lease.id, token, inState("ready"));
    expect(again.resourceId).toBe(ready.resourceId);
    expect((await emulator()).keys[0].publicKeys).toEqual([key.trim()]);
    await call("POST", `/v1/leases/${lease.id}/release`, { token, body: { action: "destroy" } });
    expect((await driveUntil(lease.id, token, inState("released"))).state).toBe("released");
  });

  it("a resume that cannot get its GPU back stays parked with a clear failure, and is destroyed at its end", async () => {
    const { lease } = await createLease({ releaseAction: "stop", ttl: "2h" });
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    await driveUntil(lease.id, token, inState("parked"));
    const [instance] = await instances();
    await control(`/instances/${instance.id}/status`, { status: "gpu_taken" });
    await call("POST", `/v1/leases/${lease.id}/resume`, { token });
    const stuck = await driveUntil(lease.id, token, (l) => l.state === "parked" && l.endReason === "resume_failed", 30 * MINUTE);
    expect(stuck.failure.code).toBe("resume_timeout");
    expect((await instances())[0].intended_status).toBe("stopped");
    const final = await driveUntil(lease.id, token, inState("released"));
    expect(final.endReason).toBe("ttl_expired");
  });

  it("an interruptible instance outbid ends its lease as provider_lost and is destroyed", async () => {
    const { lease } = await createLease();
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    const [instance] = await instances();
    await control(`/instances/${instance.id}/status`, { status: "outbid" });
    vi.setSystemTime(Date.now() + MINUTE + 1);
    await runDurableObjectAlarm(leaseStub(lease.id));
    const final = await driveUntil(lease.id, token, inState("released"));
    expect(final.endReason).toBe("provider_lost");
    expect(final.failure.code).toBe("machine_failed");
  });
});
