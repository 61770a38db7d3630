// Waiting for capacity inside workerd: a lease whose acceptable types have no capacity waits
// in its provider's line (admitted: slot and budget held, no machine), first come first
// served; one poll per provider serves the whole line; a queued lease released leaves at once;
// a wait that runs out fails with capacity_timeout and nothing created; types are tried in the
// order the request named them.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ADMIN_TOKEN, call, mintToken, sshPublicKey, useFakeClock } from "../../support/api";
import { driveUntil, inState, leaseState } from "../../support/drive";
import { fakeCloud } from "../../support/fake-cloud";

const MINUTE = 60_000;
let owner: string;
let token: string;
let n = 0;
let clock: ReturnType<typeof useFakeClock>;

beforeEach(async () => {
  fakeCloud.reset();
  clock = useFakeClock();
  owner = `waiter${++n}`;
  token = await mintToken(owner);
});
// The line is one object per provider for the whole file: a test leaves nobody waiting in it.
const created: string[] = [];
afterEach(async () => {
  for (const id of created.splice(0)) await call("POST", `/v1/leases/${id}/release`, { token });
  vi.useRealTimers();
});

const line = (provider = "fakecloud") => env.CAPACITY.get(env.CAPACITY.idFromName(provider));
const poll = (provider = "fakecloud") => runDurableObjectAlarm(line(provider));

async function create(extra: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/leases", { token, body: { provider: "fakecloud", sshPublicKey: await sshPublicKey(), waitForCapacity: "30m", ...extra } });
  expect(res.status, res.text).toBe(201);
  created.push(res.json.id);
  return res.json;
}

/** Creates a lease and drives it until it waits in line. */
async function queuedLease(extra: Record<string, unknown> = {}) {
  const lease = await create(extra);
  const queued = await driveUntil(lease.id, token, (l) => l.state === "queued" && l.queue?.position !== undefined);
  clock.advance(1_000); // distinct arrival times
  return queued;
}

describe("the capacity line", () => {
  it("5 leases wait for one type; capacity for 2 appears: the two earliest get machines, the others move up", async () => {
    fakeCloud.capacity = { "fake-1x": 0 };
    const leases = [];
    for (let i = 0; i < 5; i++) leases.push(await queuedLease());
    expect(leases.map((l) => l.queue.position)).toEqual([1, 2, 3, 4, 5]);
    expect(leases[0]).toMatchObject({ state: "queued", queue: { waitedSeconds: expect.any(Number), until: expect.any(String) } });
    expect(leases[0].resourceId).toBeUndefined();
    expect(fakeCloud.live()).toEqual([]);

    fakeCloud.capacity["fake-1x"] = 2;
    await poll();
    const after = await Promise.all(leases.map((l) => leaseState(l.id, token)));
    // The two earliest took their turns (and, on this fast fake cloud, are already up).
    expect(after.map((l) => (l.state === "queued" ? "queued" : l.resourceId ? "got a machine" : l.state))).toEqual(["got a machine", "got a machine", "queued", "queued", "queued"]);
    expect(after.slice(2).map((l) => l.queue.position)).toEqual([1, 2, 3]);
    expect(fakeCloud.live()).toHaveLength(2);
    for (const l of leases.slice(0, 2)) expect((await driveUntil(l.id, token, inState("ready"))).state).toBe("ready");
  });

  it("one capacity poll per round for the whole line, never one per queued lease", async () => {
    fakeCloud.capacity = { "fake-1x": 0 };
    for (let i = 0; i < 4; i++) await queuedLease();
    const before = fakeCloud.calls.filter((c) => c.op === "catalog").length;
    for (let round = 0; round < 3; round++) await poll();
    expect(fakeCloud.calls.filter((c) => c.op === "catalog").length - before).toBe(3);
  });

  it("a queued lease released leaves the line at once: its place, slot and reservation are freed", async () => {
    fakeCloud.capacity = { "fake-1x": 0 };
    fakeCloud.listCents = 100;
    await call("PUT", `/v1/admin/owners/${owner}/budget`, { token: ADMIN_TOKEN, body: { ratePerHour: 10 } });
    const [a, b, c] = [await queuedLease(), await queuedLease(), await queuedLease()];
    expect((await call("GET", "/v1/usage", { token })).json.liveRateCentsPerHour).toBe(300);
    const released = await call("POST", `/v1/leases/${b.id}/release`, { token });
    expect(released.json).toMatchObject({ state: "released", endReason: "released_by_user" });
    expect((await leaseState(c.id, token)).queue.position).toBe(2);
    expect((await leaseState(a.id, token)).queue.position).toBe(1);
    expect((await call("GET", "/v1/usage", { token })).json.liveRateCentsPerHour).toBe(200);
    expect((await call("GET", "/v1/leases?live=true", { token })).json.leases.map((l: { id: string }) => l.id).sort()).toEqual([a.id, c.id].sort());
    // Capacity now goes to the ones still waiting, never to the released one.
    fakeCloud.capacity["fake-1x"] = 5;
    await poll();
    expect(fakeCloud.live()).toHaveLength(2);
    expect((await leaseState(b.id, token)).state).toBe("released");
  });

  it("a wait that runs out fails with capacity_timeout, and nothing was created", async () => {
    fakeCloud.capacity = { "fake-1x": 0 };
    const lease = await queuedLease({ waitForCapacity: "10m" });
    await poll();
    const final = await driveUntil(lease.id, token, inState("failed"), 20 * MINUTE);
    expect(final).toMatchObject({ state: "failed", endReason: "capacity_timeout", failure: { code: "capacity_timeout" } });
    expect(fakeCloud.calls.filter((c) => c.op === "create")).toHaveLength(1); // the first try only
    expect(fakeCloud.live()).toEqual([]);
    fakeCloud.capacity["fake-1x"] = 1;
    await poll();
    expect(fakeCloud.live()).toEqual([]);
  });

  it("types are tried in the order named: the second is created when the first has no capacity", async () => {
    fakeCloud.capacity = { "fake-a": 0, "fake-b": 1 };
    const lease = await create({ type: ["fake-a", "fake-b"], waitForCapacity: undefined });
    const ready = await driveUntil(lease.id, token, inState("ready"));
    expect(ready).toMatchObject({ type: "fake-b", types: ["fake-a", "fake-b"] });
    expect(fakeCloud.capacity).toEqual({ "fake-a": 0, "fake-b": 0 });
    // And in line, a lease takes whichever of its types shows capacity first.
    const waiting = await queuedLease({ type: ["fake-a", "fake-b"] });
    fakeCloud.capacity["fake-a"] = 1;
    await poll();
    const served = await leaseState(waiting.id, token);
    expect(served).toMatchObject({ type: "fake-a", resourceId: expect.any(String) });
    expect(served.state).not.toBe("queued");
  });

  it("without waitForCapacity, no capacity fails the lease at once", async () => {
    fakeCloud.capacity = { "fake-1x": 0 };
    const lease = await create({ waitForCapacity: undefined });
    const final = await driveUntil(lease.id, token, inState("failed", "released"));
    expect(final.failure.code).toBe("provider_capacity");
  });

  it("refuses a wait longer than the operator allows, and a type named twice", async () => {
    const long = await call("POST", "/v1/leases", { token, body: { provider: "fakecloud", sshPublicKey: await sshPublicKey(), waitForCapacity: "3h" } });
    expect([long.status, long.json.error.code]).toEqual([400, "duration_out_of_range"]);
    const twice = await call("POST", "/v1/leases", { token, body: { provider: "fakecloud", sshPublicKey: await sshPublicKey(), type: ["fake-a", "fake-a"] } });
    expect([twice.status, twice.json.error.code]).toEqual([400, "invalid_request"]);
  });
});

describe("the capacity line against the Lambda emulator", () => {
  const CONTROL = `${(env as unknown as Record<string, string>).LAMBDA_BASE_URL!.replace(/\/api\/v1\/?$/, "")}/_emulator`;
  const control = async (path: string, body?: unknown) =>
    (await fetch(`${CONTROL}${path}`, body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json() as Promise<any>;
  const typeReads = async () => ((await control("/state")).requests as { method: string; path: string }[]).filter((r) => r.method === "GET" && r.path.endsWith("/instance-types")).length;

  it("the emulator's log shows one capacity poll per round for the whole line, and capacity made available serves it", async () => {
    await control("/reset", {});
    await control("/config", { capacity: { "us-south-2": { gpu_1x_h100_sxm5: 0 } } });
    const body = async () => ({ provider: "lambda", type: "gpu_1x_h100_sxm5", region: "us-south-2", sshPublicKey: await sshPublicKey(), waitForCapacity: "30m" });
    const leases = [];
    for (let i = 0; i < 3; i++) {
      const res = await call("POST", "/v1/leases", { token, body: await body() });
      expect(res.status, res.text).toBe(201);
      created.push(res.json.id);
      leases.push(await driveUntil(res.json.id, token, (l) => l.state === "queued" && l.queue?.position !== undefined));
    }
    const before = await typeReads();
    for (let round = 0; round < 4; round++) await poll("lambda");
    expect((await typeReads()) - before).toBe(4); // one read per round, not one per queued lease
    await control("/config", { capacity: { "us-south-2": { gpu_1x_h100_sxm5: 3 } } });
    await poll("lambda");
    for (const lease of leases) expect((await driveUntil(lease.id, token, inState("ready"))).state).toBe("ready");
    for (const lease of leases) await call("POST", `/v1/leases/${lease.id}/release`, { token });
    for (const lease of leases) await driveUntil(lease.id, token, inState("released"));
    await control("/reset", {});
  });
});
