// Leases on fal Compute end to end inside workerd against the emulator over loopback: the
// idempotent create (the replay is the recovery), fail-closed after the window, and ownership
// without markers in the sweep (recorded ids reclaimed, unattributed ones reported, untouched
// unless the account is declared dedicated).
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { LeaseObject } from "../../../src/lease/object";
import { sweepOrphans } from "../../../src/sweep/orphans";
import { ADMIN_TOKEN, call, leaseStub, mintToken, sshPublicKey, useFakeClock } from "../../support/api";
import { driveUntil, inState } from "../../support/drive";

const vars = env as unknown as Record<string, string>;
const BASE = vars.FAL_BASE_URL!.replace(/\/v1$/, "");
const CREATE = "/v1/compute/instances";
const MINUTE = 60_000;
const GRACE = 10 * MINUTE;

async function control(path: string, body?: unknown): Promise<any> {
  const init = body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } };
  const response = await fetch(`${BASE}/_emulator${path}`, init);
  expect(response.ok, await response.clone().text()).toBe(true);
  return response.json();
}
const instances = async () => (await control("/state")).instances as any[];
const creates = async () => (await control("/state")).requests.filter((r: any) => r.method === "POST" && r.path === CREATE);

let token: string;
let n = 0;
let expectEmpty = true;
beforeEach(async () => {
  await control("/reset", {});
  useFakeClock();
  token = await mintToken(`fal-user${++n}`);
  expectEmpty = true;
});

afterEach(async () => {
  vi.useRealTimers();
  if (expectEmpty) expect(await instances()).toEqual([]);
  await control("/reset", {});
});

async function createLease(extra: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/leases", { token, body: { provider: "fal", sshPublicKey: await sshPublicKey(), ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.json;
}

const sweep = (now: number, overrides: Record<string, string> = {}) =>
  sweepOrphans({ ...env, ...overrides } as Env, now, { trigger: "admin", providers: ["fal"] }).then((run) => run.providers[0]!);

describe("leases on the fal emulator", () => {
  it("a 404 that was only transient never ends a release: the listing must agree (found by the chaos suite)", async () => {
    const lease = (await call("POST", "/v1/leases", { token, body: { provider: "fal", sshPublicKey: await sshPublicKey() } })).json;
    const ready = await driveUntil(lease.id, token, inState("ready"));
    await control("/faults", { faults: [{ method: "GET", path: `${CREATE}/${ready.resourceId}`, kind: "status", status: 404, times: 1 }] });
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    const final = await driveUntil(lease.id, token, inState("released", "failed"));
    expect(final.state).toBe("released");
    expect(await instances()).toEqual([]); // deleted, not abandoned on the 404
  });

  it("creates with the lease's key and Idempotency-Key, is ready over SSH as ubuntu, and deletes on release", async () => {
    const lease = await createLease();
    expect(lease.type).toBe("gpu_1x_h100_sxm5");
    const ready = await driveUntil(lease.id, token, inState("ready"));
    const [instance] = await instances();
    expect(ready.resourceId).toBe(instance.id);
    expect(ready.endpoint).toEqual({ kind: "ssh", host: instance.ip, port: Number(vars.FAL_SSH_PORT), user: "ubuntu" });
    const [create] = await creates();
    expect(create.body).toEqual({ instance_type: "gpu_1x_h100_sxm5", ssh_key: expect.stringMatching(/^ssh-ed25519 /) }); // no sector for 1x
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    expect((await driveUntil(lease.id, token, inState("released"))).state).toBe("released");
  });

  it("answers to the alias fal-ai, and records the canonical name", async () => {
    const res = await call("POST", "/v1/leases", { token, body: { provider: "fal-ai", sshPublicKey: await sshPublicKey() } });
    expect(res.status).toBe(201);
    expect(res.json.provider).toBe("fal");
    await call("POST", `/v1/leases/${res.json.id}/release`, { token });
    await driveUntil(res.json.id, token, inState("released"));
  });

  it("refuses stop at create: fal can only delete", async () => {
    const res = await call("POST", "/v1/leases", { token, body: { provider: "fal", sshPublicKey: await sshPublicKey(), releaseAction: "stop" } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("unsupported_release_action");
  });

  it("a lost create response is recovered by replaying it: the same instance, exactly one, later deleted", async () => {
    await control("/faults", { faults: [{ method: "POST", path: CREATE, kind: "lost_response" }] });
    const lease = await createLease();
    const ready = await driveUntil(lease.id, token, inState("ready"));
    const all = await instances();
    expect(all).toHaveLength(1);
    expect(ready.resourceId).toBe(all[0].id);
    const sent = await creates();
    expect(sent).toHaveLength(2);
    expect(sent[1].body).toEqual(sent[0].body); // byte-identical replay, same key
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    await driveUntil(lease.id, token, inState("released"));
  });

  it("released while its create's answer is lost: the replay learns the instance and the release deletes it (found by the chaos suite)", async () => {
    await control("/faults", { faults: [{ method: "POST", path: CREATE, kind: "lost_response" }] });
    const lease = await createLease();
    // The create goes out and its answer is lost (the instance exists); then the owner releases.
    await runDurableObjectAlarm(leaseStub(lease.id));
    expect(await instances()).toHaveLength(1);
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    const final = await driveUntil(lease.id, token, inState("released", "failed"));
    expect(final.state).toBe("released");
    // afterEach: no instance left, instead of one billing on under a released lease.
  });

  it("no answer within the window: the lease fails closed and its instance is reported unattributed, untouched", async () => {
    expectEmpty = false;
    await control("/faults", { faults: [{ method: "POST", path: CREATE, kind: "lost_response", times: 1000 }] });
    const lease = await createLease();
    const final = await driveUntil(lease.id, token, inState("failed", "released"));
    expect(final).toMatchObject({ state: "failed", failure: { code: "create_unresolved" } });
    expect(Date.parse(final.endedAt) - Date.parse(final.createdAt)).toBeGreaterThanOrEqual(9 * MINUTE);
    const [orphan] = await instances();
    expect(orphan).toBeDefined();
    const first = await sweep(Date.now());
    expect(first).toMatchObject({ unattributed: 1, ours: 0, reclaimed: 0 });
    expect(first.unattributedSample).toEqual([expect.objectContaining({ resourceId: orphan.id, detail: expect.stringContaining("gpu_1x_h100_sxm5") })]);
    expect(first.unresolvedCreates).toEqual([expect.objectContaining({ leaseId: lease.id })]);
    await sweep(Date.now() + GRACE + MINUTE);
    expect((await instances()).map((i) => i.id)).toEqual([orphan.id]); // never touched

    // Declared dedicated: the same instance is reclaimed, after two sightings a grace apart.
    const dedicated = { FAL_ACCOUNT_DEDICATED: "true" };
    const sighted = await sweep(Date.now() + 2 * GRACE, dedicated);
    expect(sighted.reclaimed).toBe(0);
    const reclaimed = await sweep(Date.now() + 3 * GRACE + MINUTE, dedicated);
    expect(reclaimed.reclaimed).toBe(1);
    expect(await instances()).toEqual([]);
  });

  it("an instance recorded by a lease that ended without removing it is reclaimed by the sweep", async () => {
    const lease = await createLease();
    const ready = await driveUntil(lease.id, token, inState("ready"));
    // The lease believes it is gone (a delete whose effect was lost): ended, machine still there.
    await runInDurableObject(leaseStub(lease.id), async (instance: LeaseObject) => {
      const rec = instance.load()!;
      instance.commit(rec, { ...rec, state: "released", endReason: "released_by_user", endedAt: Date.now(), op: undefined, pollAt: undefined });
    });
    await vi.waitFor(async () => expect((await env.DB.prepare("SELECT live FROM leases WHERE id = ?").bind(lease.id).first<{ live: number }>())?.live).toBe(0));
    expect((await instances()).map((i) => i.id)).toEqual([ready.resourceId]);
    const first = await sweep(Date.now());
    expect(first).toMatchObject({ ours: 1, unattributed: 0, candidates: 1, reclaimed: 0 });
    const second = await sweep(Date.now() + GRACE + MINUTE);
    expect(second.reclaimed).toBe(1);
    expect(await instances()).toEqual([]);
  });

  it("doctor counts instances no lease recorded", async () => {
    await fetch(`${BASE}/v1/compute/instances`, {
      method: "POST",
      headers: { authorization: `Key ${vars.FAL_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ instance_type: "gpu_1x_h100_sxm5", ssh_key: await sshPublicKey() }),
    });
    vi.useRealTimers();
    const report = await call("GET", "/v1/providers/fal/doctor", { token: ADMIN_TOKEN });
    expect(report.json.checks.find((c: any) => c.name === "unattributed")).toMatchObject({ status: "warn", detail: expect.stringMatching(/^1 of 1 instances/) });
    expectEmpty = false;
  });
});
