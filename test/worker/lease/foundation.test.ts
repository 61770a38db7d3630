// The promises the lease machine makes at its edges: an index that never keeps a dead lease
// live, admission outcomes that every joiner sees, a 503 that creates nothing, deadlines the
// sweep can trust, ambiguous creates that settle before anything else, and stop semantics that
// cannot stretch a machine's life.
import { env, listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { admit as admitInIndex, monthAt } from "../../../src/ledger/leases";
import type { LeaseObject } from "../../../src/lease/object";
import type { LeaseRecord } from "../../../src/lease/record";
import * as t from "../../../src/lease/transitions";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { call, leaseStub, mintToken, sshPublicKey, useFakeClock } from "../../support/api";
import { driveUntil, inState, leaseState } from "../../support/drive";
import { fakeCloud } from "../../support/fake-cloud";

const MINUTE = 60_000;
let owner = 0;
let token: string;
let ownerName: string;

beforeEach(async () => {
  fakeCloud.reset();
  useFakeClock();
  ownerName = `edge${++owner}`;
  token = await mintToken(ownerName);
});

afterEach(() => {
  vi.useRealTimers();
});

async function create(body: Record<string, unknown> = {}) {
  return call("POST", "/v1/leases", { token, body: { provider: "fakecloud", sshPublicKey: await sshPublicKey(), ...body } });
}

const indexRow = (id: string) =>
  env.DB.prepare("SELECT state, live, next_deadline_at FROM leases WHERE id = ?").bind(id).first<{ state: string; live: number; next_deadline_at: number | null }>();

describe("the index never keeps a dead lease live", () => {
  it("a release that lands before a late admission insert leaves the row closed", async () => {
    const id = "lateinsert000001";
    // A lease still `requested`: its admission insert has left but not landed yet.
    const rec = await runInDurableObject(leaseStub(id), async (instance: LeaseObject, state) => {
      const requested: LeaseRecord = {
        id, owner: ownerName, slug: "late-crab-0001", requestHash: "h", releaseAction: "destroy", handle: `crabbox-x-${id}`,
        request: { provider: "fakecloud", sshPublicKey: await sshPublicKey(), ttlMs: 60 * MINUTE, idleTimeoutMs: 30 * MINUTE, ackDeadlineMs: 2 * MINUTE, releaseAction: "destroy" },
        state: "requested", createdAt: Date.now(), lastTouchAt: Date.now(), idleTimeoutMs: 30 * MINUTE, parkRetentionMs: MINUTE,
      };
      (instance as unknown as { store: { save(r: LeaseRecord): void } }).store.save(requested);
      return requested;
    });
    expect((await call("POST", `/v1/leases/${id}/release`, { token })).json.state).toBe("released");
    await vi.waitFor(async () => expect(await indexRow(id)).toMatchObject({ state: "released", live: 0 }));
    // Now the stale insert lands: it must find the id taken, not resurrect a live row.
    await admitInIndex(env.DB, rec, { caps: { perOwner: 5, global: 100 }, budget: { monthlyLimitCents: null, maxRateCentsPerHour: null }, priceCentsPerHour: 0, month: monthAt(Date.now()) }, Date.now());
    expect(await indexRow(id)).toMatchObject({ state: "released", live: 0 });
  });

  it("a poke writes the row again even when the record believes it synced", async () => {
    const res = await create();
    const id = res.json.id;
    await call("POST", `/v1/leases/${id}/release`, { token });
    await driveUntil(id, token, inState("released"));
    await env.DB.prepare("UPDATE leases SET live = 1, state = 'provisioning' WHERE id = ?").bind(id).run();
    await leaseStub(id).poke(id);
    expect(await indexRow(id)).toMatchObject({ state: "released", live: 0 });
  });

  it("a touch that shortens the idle timeout pulls the index deadline in", async () => {
    const res = await create({ idleTimeout: "30m", ttl: "2h" });
    const id = res.json.id;
    await driveUntil(id, token, inState("ready"));
    await call("POST", `/v1/leases/${id}/ack`, { token });
    await vi.waitFor(async () => expect((await indexRow(id))?.state).toBe("active"));
    const touched = await call("POST", `/v1/leases/${id}/touch`, { token, body: { idleTimeout: "5m" } });
    const idleAt = Date.parse(touched.json.deadlines.idle);
    expect(idleAt).toBe(Date.now() + 5 * MINUTE);
    await vi.waitFor(async () => expect((await indexRow(id))!.next_deadline_at).toBeLessThanOrEqual(idleAt));
  });
});

describe("admission outcomes", () => {
  async function withLeasesTableGone<T>(fn: () => Promise<T>): Promise<T> {
    await env.DB.exec("ALTER TABLE leases RENAME TO leases_unavailable");
    try {
      return await fn();
    } finally {
      await env.DB.exec("ALTER TABLE leases_unavailable RENAME TO leases");
    }
  }

  it("an admission error on a Worker-minted id creates nothing, now or later", async () => {
    const before = new Set((await listDurableObjectIds(env.LEASES)).map((id) => id.toString()));
    const res = await withLeasesTableGone(() => create());
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe("internal_error");
    expect(res.json.error.message).toMatch(/nothing was created/);
    // No object the client never heard of may admit itself later and launch a machine.
    vi.setSystemTime(Date.now() + 10 * MINUTE);
    for (const id of await listDurableObjectIds(env.LEASES)) {
      if (!before.has(id.toString())) await runDurableObjectAlarm(env.LEASES.get(id));
    }
    expect(fakeCloud.calls.filter((c) => c.op === "create")).toEqual([]);
  });

  it("an admission error on a client-minted id keeps the lease; a retry with that id joins it", async () => {
    const key = await sshPublicKey();
    const body = { id: "clientminted0001", provider: "fakecloud", sshPublicKey: key };
    const failed = await withLeasesTableGone(() => call("POST", "/v1/leases", { token, body }));
    expect(failed.status).toBe(503);
    expect(failed.json.error.message).toMatch(/same id/);
    const retried = await call("POST", "/v1/leases", { token, body });
    expect(retried.status).toBe(200);
    expect(retried.json.state).toBe("provisioning");
    await call("POST", `/v1/leases/${body.id}/release`, { token });
    await driveUntil(body.id, token, inState("released"));
    expect(fakeCloud.live()).toEqual([]);
  });

  it("a create joining one still being admitted gets the refusal too, never a 200", async () => {
    for (let i = 0; i < 8; i++) expect((await create()).status).toBe(201);
    const key = await sshPublicKey();
    const body = { id: "joinerrefused001", provider: "fakecloud", sshPublicKey: key };
    const [a, b] = await Promise.all([call("POST", "/v1/leases", { token, body }), call("POST", "/v1/leases", { token, body })]);
    expect([a.status, b.status]).toEqual([429, 429]);
    expect(b.json.error.code).toBe("quota_exceeded");
    expect((await call("GET", `/v1/leases/${body.id}`, { token })).status).toBe(404);
  });
});

describe("an ambiguous create settles before the lease creates again", () => {
  it("a create answer lost before anything existed is looked for, never repeated, inside the window", async () => {
    fakeCloud.inject({ op: "create", kind: "ambiguous" });
    const res = await create();
    const id = res.json.id;
    await runDurableObjectAlarm(leaseStub(id)); // attempt 1: outcome unknown
    const creates = () => fakeCloud.calls.filter((c) => c.op === "create").length;
    for (let i = 0; i < 5; i++) {
      vi.setSystemTime(Date.now() + 12_000);
      await runDurableObjectAlarm(leaseStub(id));
    }
    expect(creates()).toBe(1);
    // The provider finishes attempt 1 late: the lease binds it instead of launching a second.
    fakeCloud.add(`crabbox-crabbox-local-${id}`, { deploymentId: "crabbox-local", leaseId: id });
    const ready = await driveUntil(id, token, inState("ready"));
    expect(ready.resourceId).toBe(fakeCloud.live()[0]!.id);
    expect(creates()).toBe(1);
    expect(fakeCloud.live()).toHaveLength(1);
    await call("POST", `/v1/leases/${id}/release`, { token });
    await driveUntil(id, token, inState("released"));
    expect(fakeCloud.live()).toEqual([]);
  });

  it("after the window passes with nothing found, the lease creates again exactly once", async () => {
    fakeCloud.inject({ op: "create", kind: "ambiguous" });
    const id = (await create()).json.id;
    const ready = await driveUntil(id, token, inState("ready"));
    expect(Date.parse(ready.readyAt) - Date.parse(ready.createdAt)).toBeGreaterThanOrEqual(t.CREATE_SETTLE_MS);
    expect(fakeCloud.calls.filter((c) => c.op === "create")).toHaveLength(2);
    expect(fakeCloud.live()).toHaveLength(1);
    await call("POST", `/v1/leases/${id}/release`, { token });
    await driveUntil(id, token, inState("released"));
  });
});

describe("stop is not an escape from the deadlines", () => {
  it("a stop lease never acknowledged is destroyed, not parked", async () => {
    const id = (await create({ releaseAction: "stop", ackDeadline: "2m" })).json.id;
    const final = await driveUntil(id, token, inState("released", "parked"));
    expect(final.state).toBe("released");
    expect(final.endReason).toBe("ack_timeout");
    expect(fakeCloud.live()).toEqual([]);
  });

  it("a parked lease past its TTL cannot be resumed", async () => {
    const id = (await create({ releaseAction: "stop", ttl: "1h" })).json.id;
    await driveUntil(id, token, inState("ready"));
    await call("POST", `/v1/leases/${id}/ack`, { token });
    await call("POST", `/v1/leases/${id}/release`, { token });
    const parked = await driveUntil(id, token, inState("parked"));
    expect(parked.endReason).toBe("released_by_user");
    expect(Date.parse(parked.deadlines.ttl)).toBe(Date.parse(parked.createdAt) + 60 * MINUTE);
    vi.setSystemTime(Date.parse(parked.createdAt) + 60 * MINUTE); // before the alarm has run
    const resumed = await call("POST", `/v1/leases/${id}/resume`, { token });
    expect(resumed.status).toBe(409);
    expect(resumed.json.error.code).toBe("lease_expired");
    const final = await driveUntil(id, token, inState("released"));
    expect(final.endReason).toBe("ttl_expired");
    expect(fakeCloud.live()).toEqual([]);
    expect((await leaseState(id, token)).state).toBe("released");
  });
});
