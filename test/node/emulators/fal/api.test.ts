// The fal emulator against the fact sheet: Key auth, create with its idempotency cache (10
// minutes on the emulator's clock), sector only for 8x, the instance lifecycle with real SSH
// (only the create's key, only ubuntu), paging with opaque cursors, late listing, delete → 404.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFalEmulator, type FalEmulator } from "../../../emulators/fal/index.ts";
import { makeKeyPair, scratchDir, ssh, type KeyPair } from "../ssh-client.ts";

const API_KEY = "fal_node-test-key";
let emulator: FalEmulator;
let key: KeyPair;
let other: KeyPair;
let knownHosts: string;

beforeAll(async () => {
  emulator = await startFalEmulator({ apiKey: API_KEY });
  const dir = await scratchDir();
  key = await makeKeyPair(dir, "lease");
  other = await makeKeyPair(dir, "other");
  knownHosts = `${dir}/known_hosts`;
});
afterAll(() => emulator?.close());
beforeEach(() => emulator.reset());

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(emulator.apiBase + path, {
    method,
    headers: { authorization: `Key ${API_KEY}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const ONE = () => ({ instance_type: "gpu_1x_h100_sxm5", ssh_key: key.publicKey });

describe("create", () => {
  it("needs `Key <key>` auth, answering fal's error body", async () => {
    const res = await api("POST", "/compute/instances", ONE(), { authorization: `Bearer ${API_KEY}` });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ type: "authorization_error", message: expect.any(String) });
  });

  it("accepts sector only with the 8x type", async () => {
    expect((await api("POST", "/compute/instances", { ...ONE(), sector: "sector_1" })).status).toBe(400);
    const eight = await api("POST", "/compute/instances", { instance_type: "gpu_8x_h100_sxm5", ssh_key: key.publicKey, sector: "sector_2" });
    expect(eight.status).toBe(200);
    expect(eight.body).toMatchObject({ instance_type: "gpu_8x_h100_sxm5", sector: "sector_2", id: expect.stringMatching(/^inst_/) });
  });

  it("answers a replay with the same key and body with the same instance for 10 minutes, then creates anew", async () => {
    const headers = { "idempotency-key": "crabbox-dep-lease0000001" };
    const first = await api("POST", "/compute/instances", ONE(), headers);
    const replay = await api("POST", "/compute/instances", ONE(), headers);
    expect(replay.body.id).toBe(first.body.id);
    expect((await api("POST", "/compute/instances", { ...ONE(), instance_type: "gpu_8x_h100_sxm5" }, headers)).status).toBe(422);
    emulator.configure({ clockOffsetMs: 10 * 60_000 });
    const later = await api("POST", "/compute/instances", ONE(), headers);
    expect(later.body.id).not.toBe(first.body.id);
    expect((await emulator.state()).instances).toHaveLength(2);
  });
});

describe("instances", () => {
  it("is ready with an ip that takes only the create's key, and only as ubuntu", async () => {
    const created = await api("POST", "/compute/instances", ONE());
    const ready = (await api("GET", `/compute/instances/${created.body.id}`)).body;
    expect(ready).toMatchObject({ status: "ready", ip: expect.stringMatching(/^127\.12\./), creator_user_nickname: expect.any(String) });
    const target = { host: ready.ip, port: emulator.sshPort, user: "ubuntu", key, knownHosts };
    expect(await ssh(target, { command: "echo $USER" })).toMatchObject({ code: 0, stdout: "ubuntu\n" });
    expect((await ssh({ ...target, user: "root" }, { command: "true" })).code).toBe(255);
    expect((await ssh({ ...target, key: other }, { command: "true" })).code).toBe(255);
  });

  it("is provisioning without an ip while it boots", async () => {
    emulator.configure({ bootMs: 60_000 });
    const created = await api("POST", "/compute/instances", ONE());
    expect(created.body.status).toBe("provisioning");
    expect(created.body.ip).toBeUndefined();
  });

  it("deletes irreversibly: 404 afterwards", async () => {
    const { id } = (await api("POST", "/compute/instances", ONE())).body;
    expect((await api("DELETE", `/compute/instances/${id}`)).status).toBe(204);
    expect((await api("GET", `/compute/instances/${id}`)).body.error.type).toBe("not_found");
    expect((await api("DELETE", `/compute/instances/${id}`)).status).toBe(404);
  });

  it("pages with opaque cursors, always naming instances, next_cursor and has_more", async () => {
    for (let i = 0; i < 5; i++) await api("POST", "/compute/instances", ONE());
    const first = (await api("GET", "/compute/instances?limit=3")).body;
    expect(first).toMatchObject({ has_more: true, next_cursor: expect.any(String) });
    expect(first.instances).toHaveLength(3);
    const second = (await api("GET", `/compute/instances?limit=3&cursor=${first.next_cursor}`)).body;
    expect(second).toMatchObject({ has_more: false, next_cursor: null });
    expect(second.instances).toHaveLength(2);
    expect((await api("GET", "/compute/instances?cursor=bogus")).status).toBe(400);
  });

  it("can list a new instance only after a delay (eventual consistency)", async () => {
    emulator.configure({ listingDelayMs: 60_000 });
    const { id } = (await api("POST", "/compute/instances", ONE())).body;
    expect((await api("GET", "/compute/instances")).body.instances).toEqual([]);
    expect((await api("GET", `/compute/instances/${id}`)).status).toBe(200);
    emulator.configure({ clockOffsetMs: 60_000 });
    expect((await api("GET", "/compute/instances")).body.instances.map((i: any) => i.id)).toEqual([id]);
  });
});
