// The Lambda emulator speaks the real API: auth schemes, envelopes, the instance-types map,
// SSH key objects, and a launch validator as strict as the published request schema.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LambdaEmulator } from "../../../emulators/lambda/index.ts";
import { makeKeyPair, scratchDir, type KeyPair } from "../ssh-client.ts";
import { API_KEY, LAUNCH_DEFAULTS, addKey, apiClient, launch, startFastEmulator, type ApiClient } from "./helpers.ts";

let emulator: LambdaEmulator;
let api: ApiClient;
let key: KeyPair;

beforeAll(async () => {
  emulator = await startFastEmulator();
  api = apiClient(emulator);
  key = await makeKeyPair(await scratchDir(), "lease");
});
afterAll(() => emulator?.close());
beforeEach(() => emulator.reset());

describe("auth", () => {
  it("accepts Bearer and both Basic forms of the key", async () => {
    const basicUser = `Basic ${Buffer.from(`${API_KEY}:`).toString("base64")}`;
    for (const authorization of [`Bearer ${API_KEY}`, basicUser, `Basic ${API_KEY}`]) {
      expect((await apiClient(emulator, authorization).get("/instances")).status).toBe(200);
    }
  });

  it("answers 401 global/invalid-api-key for a wrong or missing key", async () => {
    for (const authorization of ["Bearer wrong", "", `Token ${API_KEY}`]) {
      const res = await apiClient(emulator, authorization).get("/instances");
      expect(res.status).toBe(401);
      expect(res.body.error).toEqual({
        code: "global/invalid-api-key",
        message: expect.any(String),
        suggestion: expect.any(String),
      });
    }
  });
});

describe("catalog", () => {
  it("lists instance types as a map keyed by name, regions as {name, description}", async () => {
    const res = await api.get("/instance-types");
    expect(res.status).toBe(200);
    const a10 = res.body.data.gpu_1x_a10;
    expect(a10.instance_type).toMatchObject({ name: "gpu_1x_a10", price_cents_per_hour: 75, specs: { gpus: 1 } });
    expect(a10.regions_with_capacity_available).toContainEqual({ name: "us-east-1", description: "Virginia, USA" });
    expect(res.body.data.gpu_1x_gh200.regions_with_capacity_available).toEqual([]);
  });

  it("derives regions_with_capacity_available from the capacity table", async () => {
    emulator.configure({ capacity: { "us-east-1": { gpu_1x_a10: 0 }, "europe-central-1": { gpu_1x_gh200: 1 } } });
    const types = (await api.get("/instance-types")).body.data;
    expect(types.gpu_1x_a10.regions_with_capacity_available.map((r: { name: string }) => r.name)).toEqual(["us-west-1"]);
    expect(types.gpu_1x_gh200.regions_with_capacity_available).toEqual([{ name: "europe-central-1", description: "Germany" }]);
  });

  it("serves regions, images and (empty) file systems", async () => {
    expect((await api.get("/regions")).body.data).toContainEqual({ name: "us-east-1", description: "Virginia, USA" });
    const images = (await api.get("/images")).body.data;
    expect(images.length).toBeGreaterThan(0);
    expect(images[0]).toMatchObject({ id: expect.any(String), family: expect.any(String), region: { name: expect.any(String) } });
    expect((await api.get("/file-systems")).body).toEqual({ data: [] });
  });

  it("answers unknown routes with global/not-found", async () => {
    const res = await api.get("/no-such-thing");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("global/not-found");
  });
});

describe("ssh-keys", () => {
  it("adds, lists and deletes a key", async () => {
    const id = await addKey(api, "lease-1", key.publicKey);
    expect((await api.get("/ssh-keys")).body.data).toEqual([{ id, name: "lease-1", public_key: key.publicKey }]);
    const del = await api.call("DELETE", `/ssh-keys/${id}`);
    expect(del).toMatchObject({ status: 200, body: { data: {} } });
    expect((await api.get("/ssh-keys")).body.data).toEqual([]);
  });

  it("generates a key pair when no public key is given", async () => {
    const res = await api.post("/ssh-keys", { name: "generated" });
    expect(res.status).toBe(200);
    expect(res.body.data.public_key).toMatch(/^ssh-ed25519 /);
    expect(res.body.data.private_key).toContain("PRIVATE KEY");
  });

  it("refuses duplicate names, bad keys and unknown fields with global/invalid-parameters", async () => {
    await addKey(api, "lease-1", key.publicKey);
    const bodies = [
      { name: "lease-1", public_key: key.publicKey },
      { name: "other", public_key: "ssh-ed25519 not-base64" },
      { name: "x".repeat(65), public_key: key.publicKey },
      { name: "other", public_key: key.publicKey, label: "x" },
    ];
    for (const body of bodies) {
      const res = await api.post("/ssh-keys", body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("global/invalid-parameters");
    }
  });

  it("answers 400 (not 404) when deleting an unknown key id", async () => {
    const res = await api.call("DELETE", "/ssh-keys/0123456789abcdef0123456789abcdef");
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("global/invalid-parameters");
  });
});

describe("launch validation", () => {
  beforeEach(async () => {
    await addKey(api, "lease-1", key.publicKey);
  });
  const base = { ...LAUNCH_DEFAULTS, ssh_key_names: ["lease-1"] };

  it("accepts every optional field the spec defines", async () => {
    const id = await launch(api, "lease-1", {
      name: "crabbox-lease-1",
      hostname: "lease-1",
      image: { family: "ubuntu-22-04" },
      user_data: "#cloud-config\n",
      tags: [{ key: "crabbox:lease", value: "l1" }],
    });
    const got = (await api.get(`/instances/${id}`)).body.data;
    expect(got).toMatchObject({ name: "crabbox-lease-1", hostname: "lease-1", tags: [{ key: "crabbox:lease", value: "l1" }] });
    expect(got).not.toHaveProperty("user_data");
  });

  it.each([
    ["an unknown field", { ...base, quantity: 1 }],
    ["a missing region", { instance_type_name: "gpu_1x_a10", ssh_key_names: ["lease-1"] }],
    ["an unknown region", { ...base, region_name: "mars-north-1" }],
    ["an unknown instance type", { ...base, instance_type_name: "gpu_9x_imaginary" }],
    ["no ssh key", { ...base, ssh_key_names: [] }],
    ["two ssh keys", { ...base, ssh_key_names: ["lease-1", "lease-1"] }],
    ["a name over 64 characters", { ...base, name: "n".repeat(65) }],
    ["a bad hostname", { ...base, hostname: "Not_A_Host" }],
    ["a tag key with capitals", { ...base, tags: [{ key: "Crabbox", value: "x" }] }],
    ["a tag key over 55 characters", { ...base, tags: [{ key: "k".repeat(56), value: "x" }] }],
    ["tags as an object", { ...base, tags: { lease: "x" } }],
    ["an image with id and family", { ...base, image: { id: "x", family: "y" } }],
  ])("refuses %s with 400 global/invalid-parameters", async (_what, body) => {
    const res = await api.post("/instance-operations/launch", body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "global/invalid-parameters", message: expect.any(String) });
    expect((await api.get("/instances")).body.data).toEqual([]);
  });

  it.each([
    ["an unregistered ssh key name", { ...base, ssh_key_names: ["nobody"] }],
    ["an unknown image", { ...base, image: { id: "00000000-0000-4000-a000-000000000000" } }],
    ["an unknown file system", { ...base, file_system_names: ["shared"] }],
    ["an unknown firewall ruleset", { ...base, firewall_rulesets: [{ id: "abc" }] }],
  ])("refuses %s with 404 global/object-does-not-exist and a suggestion", async (_what, body) => {
    const res = await api.post("/instance-operations/launch", body);
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({ code: "global/object-does-not-exist", message: expect.any(String), suggestion: expect.any(String) });
  });

  it("refuses a body that is not JSON", async () => {
    const res = await api.call("POST", "/instance-operations/launch", undefined, { body: "{not json" });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("global/invalid-parameters");
  });
});
