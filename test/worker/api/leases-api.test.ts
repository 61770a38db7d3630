// The lease API's promises to clients: idempotent create and release, atomic caps, owner
// isolation, token revocation, and the OpenAPI document.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ADMIN_TOKEN, call, mintToken, sshPublicKey, useFakeClock } from "../../support/api";
import { driveUntil, inState } from "../../support/drive";
import { fakeCloud } from "../../support/fake-cloud";

let n = 0;
let key: string;
beforeEach(async () => {
  fakeCloud.reset();
  useFakeClock();
  key = await sshPublicKey();
});
afterEach(() => vi.useRealTimers());

const body = (extra: Record<string, unknown> = {}) => ({ provider: "fakecloud", sshPublicKey: key, ...extra });
const newId = () => `idem${String(++n).padStart(8, "0")}x`;

describe("idempotency", () => {
  it("the same id with the same request joins the lease; a different request is a 409", async () => {
    const token = await mintToken(`idem${n}`);
    const id = newId();
    const first = await call("POST", "/v1/leases", { token, body: body({ id, ttl: "1h" }) });
    expect(first.status).toBe(201);
    const again = await call("POST", "/v1/leases", { token, body: body({ id, ttl: "1h" }) });
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(id);
    expect(again.json.createdAt).toBe(first.json.createdAt);
    const conflict = await call("POST", "/v1/leases", { token, body: body({ id, ttl: "2h" }) });
    expect(conflict.status).toBe(409);
    expect(conflict.json.error.code).toBe("lease_conflict");
    const otherOwner = await call("POST", "/v1/leases", { token: await mintToken(`idem-other${n}`), body: body({ id, ttl: "1h" }) });
    expect(otherOwner.status).toBe(409);
  });

  it("release is idempotent: releasing an ended lease answers 200 with its final state", async () => {
    const token = await mintToken(`rel${n}`);
    const lease = (await call("POST", "/v1/leases", { token, body: body() })).json;
    await driveUntil(lease.id, token, inState("ready"));
    const first = await call("POST", `/v1/leases/${lease.id}/release`, { token });
    const second = await call("POST", `/v1/leases/${lease.id}/release`, { token });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.json.state).toBe("releasing");
    await driveUntil(lease.id, token, inState("released"));
    const third = await call("POST", `/v1/leases/${lease.id}/release`, { token });
    expect(third.status).toBe(200);
    expect(third.json.state).toBe("released");
    expect(fakeCloud.calls.filter((c) => c.op === "release").length).toBeGreaterThan(0);
    expect(fakeCloud.live()).toEqual([]);
  });

  it("acknowledging twice is harmless; acknowledging a released lease is a 409", async () => {
    const token = await mintToken(`ack${n}`);
    const lease = (await call("POST", "/v1/leases", { token, body: body() })).json;
    await driveUntil(lease.id, token, inState("ready"));
    expect((await call("POST", `/v1/leases/${lease.id}/ack`, { token })).json.state).toBe("active");
    expect((await call("POST", `/v1/leases/${lease.id}/ack`, { token })).json.state).toBe("active");
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    await driveUntil(lease.id, token, inState("released"));
    const late = await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    expect(late.status).toBe(409);
    expect(late.json.error.code).toBe("invalid_state");
  });
});

describe("admission caps", () => {
  it("N concurrent creates by one owner: exactly the cap succeed, the rest get quota_exceeded", async () => {
    const token = await mintToken("capped");
    const ids = Array.from({ length: 12 }, newId);
    const results = await Promise.all(ids.map((id) => call("POST", "/v1/leases", { token, body: body({ id }) })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(8);
    expect(statuses.filter((s) => s === 429)).toHaveLength(4);
    for (const r of results.filter((r) => r.status === 429)) {
      expect(r.json.error).toEqual({ code: "quota_exceeded", message: "you already hold the maximum of 8 live leases" });
    }
    // A refused lease leaves nothing behind: its id is unknown, and free to use later.
    const refusedId = ids[results.findIndex((r) => r.status === 429)]!;
    expect((await call("GET", `/v1/leases/${refusedId}`, { token })).status).toBe(404);
    const listed = await call("GET", "/v1/leases?live=true", { token });
    expect(listed.json.leases).toHaveLength(8);
    // Ending a lease frees a slot.
    const one = results.find((r) => r.status === 201)!.json;
    await call("POST", `/v1/leases/${one.id}/release`, { token });
    await driveUntil(one.id, token, inState("released"));
    expect((await call("POST", "/v1/leases", { token, body: body({ id: newId() }) })).status).toBe(201);
  });
});

describe("owner isolation and tokens", () => {
  it("another owner's lease answers exactly like a missing one", async () => {
    const alice = await mintToken("alice");
    const bob = await mintToken("bob");
    const lease = (await call("POST", "/v1/leases", { token: alice, body: body() })).json;
    const missing = await call("GET", "/v1/leases/zzzzzzzzzzzzzzzz", { token: bob });
    for (const [method, suffix] of [["GET", ""], ["POST", "/ack"], ["POST", "/touch"], ["POST", "/release"], ["GET", "/events"]] as const) {
      const res = await call(method, `/v1/leases/${lease.id}${suffix}`, { token: bob });
      expect(res.status).toBe(404);
      expect(res.json).toEqual(missing.json);
    }
    expect((await call("GET", `/v1/leases/${lease.slug}`, { token: bob })).status).toBe(404);
    expect((await call("GET", "/v1/leases", { token: bob })).json.leases).toEqual([]);
    expect((await call("GET", `/v1/leases/${lease.id}`, { token: alice })).status).toBe(200);
    // Admins see and release every owner's leases.
    const all = await call("GET", "/v1/admin/leases?owner=alice", { token: ADMIN_TOKEN });
    expect(all.json.leases.map((l: any) => l.id)).toContain(lease.id);
    const released = await call("POST", `/v1/admin/leases/${lease.id}/release`, { token: ADMIN_TOKEN });
    expect(released.json.endReason).toBe("admin");
    expect((await call("GET", "/v1/admin/leases", { token: alice })).status).toBe(403);
  });

  it("a revoked token stops working at once; tokens are stored only as hashes", async () => {
    const minted = await call("POST", "/v1/admin/tokens", { token: ADMIN_TOKEN, body: { owner: "carol", label: "laptop" } });
    expect(minted.status).toBe(201);
    const token = minted.json.token as string;
    expect((await call("GET", "/v1/whoami", { token })).json).toEqual({ owner: "carol", role: "user", tokenId: minted.json.info.id });
    const listed = await call("GET", "/v1/admin/tokens", { token: ADMIN_TOKEN });
    expect(JSON.stringify(listed.json)).not.toContain(token.split("_")[2]);
    const { env } = await import("cloudflare:workers");
    const row = await env.DB.prepare("SELECT * FROM tokens WHERE id = ?").bind(minted.json.info.id).first<Record<string, string>>();
    expect(Object.values(row!).join(" ")).not.toContain(token.split("_")[2]);

    const revoked = await call("DELETE", `/v1/admin/tokens/${minted.json.info.id}`, { token: ADMIN_TOKEN });
    expect(revoked.json.revokedAt).toBeDefined();
    const after = await call("GET", "/v1/whoami", { token });
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe("unauthorized");
  });

  it("a token with the right id but a wrong secret is refused", async () => {
    const token = await mintToken("dave");
    const forged = token.slice(0, -1) + (token.endsWith("a") ? "b" : "a");
    expect((await call("GET", "/v1/whoami", { token: forged })).status).toBe(401);
  });
});

describe("discovery", () => {
  it("serves an OpenAPI document generated from the route schemas", async () => {
    const res = await call("GET", "/v1/openapi.json");
    expect(res.status).toBe(200);
    expect(res.json.openapi).toBe("3.1.0");
    const create = res.json.paths["/v1/leases"].post;
    expect(create.requestBody.content["application/json"].schema.required).toEqual(["provider", "sshPublicKey"]);
    expect(create.requestBody.content["application/json"].schema.additionalProperties).toBe(false);
    expect(Object.keys(res.json.paths)).toContain("/v1/leases/{ref}/touch");
  });

  it("lists configured providers with their capabilities; health needs no token", async () => {
    const token = await mintToken("eve");
    const res = await call("GET", "/v1/providers", { token });
    const fake = res.json.providers.find((p: any) => p.name === "fakecloud");
    expect(fake.capabilities.releaseActions).toEqual(["destroy", "stop"]);
    expect((await call("GET", "/v1/health")).json.ok).toBe(true);
    const doctor = await call("GET", "/v1/providers/fakecloud/doctor", { token });
    expect(doctor.json.ok).toBe(true);
  });
});
