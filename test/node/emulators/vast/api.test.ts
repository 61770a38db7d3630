// The Vast emulator against what its docs and official client promise: the offer market, create
// with and without cancel_unavail, the instance lifecycle, labels and the v1 listing, per-instance
// keys that a real OpenSSH client logs in with (only as root), stop/restart, and the error shapes.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startVastEmulator, type VastEmulator } from "../../../emulators/vast/index.ts";
import { makeKeyPair, ssh, scratchDir, type KeyPair } from "../ssh-client.ts";

const runSsh = (target: Parameters<typeof ssh>[0], command: string) => ssh(target, { command });

const API_KEY = "vast_node-test-key-0123";
let emulator: VastEmulator;
let key: KeyPair;
let knownHosts: string;

beforeAll(async () => {
  emulator = await startVastEmulator({ apiKey: API_KEY });
  const dir = await scratchDir();
  key = await makeKeyPair(dir, "lease");
  knownHosts = `${dir}/known_hosts`;
});
afterAll(() => emulator?.close());
beforeEach(() => emulator.reset());

async function api(method: string, path: string, body?: unknown, auth = `Bearer ${API_KEY}`) {
  const res = await fetch(emulator.url + path, {
    method,
    headers: { authorization: auth, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type") ?? "", body: res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text };
}

const SEARCH = {
  verified: { eq: true }, rentable: { eq: true }, rented: { eq: false }, gpu_name: { eq: "RTX 4090" }, num_gpus: { eq: 1 },
  reliability: { gte: 0.95 }, direct_port_count: { gte: 1 }, duration: { gte: 3 * 86_400 },
  order: [["dph_total", "asc"]], type: "on-demand", limit: 10, allocated_storage: 32,
};
const CREATE = { client_id: "me", image: "vastai/base-image", env: {}, price: null, disk: 32, label: "crabbox-test-lease00000001", onstart: null, runtype: "ssh_direct", cancel_unavail: true };

async function rentCheapest(): Promise<number> {
  const offers = (await api("POST", "/api/v0/bundles/", SEARCH)).body.offers;
  const res = await api("PUT", `/api/v0/asks/${offers[0].id}/`, CREATE);
  expect(res.status).toBe(200);
  return res.body.new_contract;
}

const show = async (id: number) => (await api("GET", `/api/v0/instances/${id}/?owner=me`)).body.instances;

describe("offers", () => {
  it("filters by the documented operators and orders by price", async () => {
    const res = await api("POST", "/api/v0/bundles/", { ...SEARCH, geolocation: { in: ["US"] } });
    expect(res.status).toBe(200);
    const offers = res.body.offers;
    expect(offers.map((o: any) => o.id)).toEqual([1001, 1003]);
    expect(offers.every((o: any) => o.gpu_name === "RTX 4090" && o.num_gpus === 1 && o.rentable)).toBe(true);
  });

  it("a rented offer leaves the market and comes back when its instance is destroyed", async () => {
    const id = await rentCheapest();
    const ids = async () => (await api("POST", "/api/v0/bundles/", SEARCH)).body.offers.map((o: any) => o.id);
    expect(await ids()).not.toContain(1001);
    await api("DELETE", `/api/v0/instances/${id}/`, {});
    expect(await ids()).toContain(1001);
  });

  it("refuses a malformed filter with the common error shape", async () => {
    const res = await api("POST", "/api/v0/bundles/", { gpu_name: "RTX 4090" });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: "invalid_args", msg: expect.any(String) });
  });
});

describe("create", () => {
  it("answers new_contract (and an instance_api_key); a taken offer is 410 no_such_ask with cancel_unavail", async () => {
    await rentCheapest();
    const again = await api("PUT", "/api/v0/asks/1001/", CREATE);
    expect(again.status).toBe(410);
    expect(again.body).toMatchObject({ success: false, error: "no_such_ask", ask_id: 1001 });
    expect((await api("PUT", "/api/v0/asks/999999/", CREATE)).status).toBe(404);
  });

  it("without cancel_unavail a create that cannot start leaves a stopped instance behind", async () => {
    await rentCheapest();
    const res = await api("PUT", "/api/v0/asks/1001/", { ...CREATE, cancel_unavail: false });
    expect(res.status).toBe(200);
    expect((await show(res.body.new_contract)).actual_status).toBe("stopped");
  });

  it("requires an image", async () => {
    const res = await api("PUT", "/api/v0/asks/1001/", { ...CREATE, image: undefined });
    expect(res.status).toBe(400);
  });
});

describe("instances", () => {
  it("runs with a direct SSH port; only attached keys log in, only as root", async () => {
    const id = await rentCheapest();
    const running = await show(id);
    expect(running).toMatchObject({ actual_status: "running", label: CREATE.label, ports: { "22/tcp": [{ HostPort: String(emulator.sshPort) }] } });
    const target = { host: running.public_ipaddr, port: Number(running.ports["22/tcp"][0].HostPort), user: "root", key, knownHosts };
    expect((await runSsh(target, "true")).code).toBe(255); // no key attached yet
    expect((await api("POST", `/api/v0/instances/${id}/ssh/`, { ssh_key: key.publicKey })).status).toBe(200);
    const hello = await runSsh(target, "echo hello; whoami");
    expect(hello.code).toBe(0);
    expect(hello.stdout).toMatch(/hello/);
    expect((await runSsh({ ...target, user: "ubuntu" }, "true")).code).toBe(255);
    const keys = (await api("GET", `/api/v0/instances/${id}/ssh/`)).body;
    expect(typeof keys.ssh_keys).toBe("string"); // a JSON-encoded string, as documented
    const [attached] = JSON.parse(keys.ssh_keys);
    expect((await api("DELETE", `/api/v0/instances/${id}/ssh/${attached.id}/`, {})).status).toBe(200);
    expect((await runSsh(target, "true")).code).toBe(255);
    expect((await api("DELETE", `/api/v0/instances/${id}/ssh/${attached.id}/`, {})).body.error).toBe("no_such_ssh_key");
  });

  it("copies the account-level key into new instances only", async () => {
    emulator.configure({ accountKey: key.publicKey });
    const id = await rentCheapest();
    const keys = JSON.parse((await api("GET", `/api/v0/instances/${id}/ssh/`)).body.ssh_keys);
    expect(keys.map((k: any) => k.public_key)).toEqual([key.publicKey]);
    expect((await api("GET", "/api/v0/users/current/")).body.ssh_key).toBe(key.publicKey);
  });

  it("stops (SSH goes away) and restarts on its GPU, or waits for it while someone else holds it", async () => {
    const id = await rentCheapest();
    await api("POST", `/api/v0/instances/${id}/ssh/`, { ssh_key: key.publicKey });
    expect((await api("PUT", `/api/v0/instances/${id}/`, { state: "stopped" })).body).toEqual({ success: true });
    const stopped = await show(id);
    expect(stopped).toMatchObject({ actual_status: "stopped", intended_status: "stopped" });
    expect(stopped.ports).toBeUndefined();
    await api("PUT", `/api/v0/instances/${id}/`, { state: "running" });
    expect((await show(id)).actual_status).toBe("running");
    await api("PUT", `/api/v0/instances/${id}/`, { state: "stopped" });
    await fetch(`${emulator.url}/_emulator/instances/${id}/status`, { method: "POST", body: JSON.stringify({ status: "gpu_taken" }) });
    await api("PUT", `/api/v0/instances/${id}/`, { state: "running" });
    expect(await show(id)).toMatchObject({ actual_status: "stopped", intended_status: "running", status_msg: expect.stringMatching(/scheduling/) });
  });

  it("is {\"instances\": null} once destroyed, and DELETE then answers not_found", async () => {
    const id = await rentCheapest();
    expect((await api("DELETE", `/api/v0/instances/${id}/`, {})).body).toMatchObject({ success: true });
    expect(await show(id)).toBeNull();
    expect((await api("DELETE", `/api/v0/instances/${id}/`, {})).body).toMatchObject({ success: false, error: "not_found" });
  });

  it("lists 25 per page with next_token, filterable by label", async () => {
    emulator.configure({ offers: Array.from({ length: 30 }, (_, i) => ({ id: 5000 + i, machine_id: 1, num_gpus: 1, gpu_name: "RTX 4090", dph_total: 0.3, geolocation: "US", reliability: 0.99, direct_port_count: 4, end_date: 4e9, verified: true, storage_cost: 0.1 })) });
    for (let i = 0; i < 30; i++) await api("PUT", `/api/v0/asks/${5000 + i}/`, { ...CREATE, label: i === 7 ? "special" : CREATE.label });
    const first = (await api("GET", `/api/v1/instances/?limit=25&order_by=${encodeURIComponent('[{"col":"id","dir":"asc"}]')}`)).body;
    expect(first.instances).toHaveLength(25);
    expect(first.next_token).toEqual(expect.any(String));
    const second = (await api("GET", `/api/v1/instances/?limit=25&after_token=${encodeURIComponent(first.next_token)}`)).body;
    expect(second.instances).toHaveLength(5);
    expect(second.next_token).toBeNull();
    const labelled = (await api("GET", `/api/v1/instances/?select_filters=${encodeURIComponent('{"label":{"in":["special"]}}')}`)).body;
    expect(labelled.instances.map((i: any) => i.label)).toEqual(["special"]);
    expect((await api("GET", "/api/v1/instances/?limit=26")).status).toBe(400);
  });
});

describe("errors and limits", () => {
  it("answers a bad key 401 with the common shape, and throttles per endpoint with plain text", async () => {
    expect((await api("GET", "/api/v0/users/current/", undefined, "Bearer nope")).body).toMatchObject({ success: false, error: "auth_error" });
    emulator.configure({ endpointIntervalMs: 60_000 });
    expect((await api("GET", "/api/v0/users/current/")).status).toBe(200);
    const limited = await api("GET", "/api/v0/users/current/");
    expect(limited.status).toBe(429);
    expect(limited.type).toMatch(/text\/plain/);
    expect(limited.body).toMatch(/API requests too frequent/);
    expect((await api("POST", "/api/v0/bundles/", SEARCH)).status).toBe(200); // another endpoint
  });
});
