// The Lambda adapter against a scripted API (injected fetch): exact requests, error kinds,
// recovery and the release step function, including answers the emulator cannot easily give.
import { beforeEach, describe, expect, it } from "vitest";
import { createLambdaAdapter, instanceStatus } from "../../../src/providers/lambda";
import { errorKind } from "../../../src/providers/lambda/client";
import { ProviderError, type LeaseSpec, type ProviderAdapter } from "../../../src/providers/types";
import type { Instance } from "../../../src/providers/lambda/wire";
import { FAKE_API_KEY, FAKE_BASE_URL, FakeLambda, lambdaError } from "../../support/lambda-fake";

const SPEC: LeaseSpec = {
  leaseId: "abcdefghijkl0123",
  deploymentId: "test-deploy",
  owner: "alice",
  sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LWZvci1jcmFiYm94 lease",
};
const HANDLE = "crabbox-test-deploy-abcdefghijkl0123";
const FIRST = { handle: HANDLE, number: 1, firstAt: 0 };

let fake: FakeLambda;
let lambda: ProviderAdapter;

function make(vars: Record<string, string> = {}, sharedReads = false): ProviderAdapter {
  const config = {
    deploymentId: "test-deploy",
    sharedReads,
    vars: { LAMBDA_API_KEY: FAKE_API_KEY, LAMBDA_BASE_URL: FAKE_BASE_URL, LAMBDA_DEFAULT_REGION: "us-east-1", LAMBDA_DEFAULT_TYPE: "gpu_1x_a10", ...vars },
  };
  return createLambdaAdapter(config, { fetch: fake.fetch });
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

async function releaseUntilDone(ref: Parameters<ProviderAdapter["release"]>[0]): Promise<number> {
  for (let step = 1; step <= 10; step++) {
    if ((await lambda.release(ref, "destroy", SPEC)).done) return step;
    fake.settle();
  }
  throw new Error("release never finished");
}

beforeEach(() => {
  fake = new FakeLambda();
  lambda = make();
});

describe("create", () => {
  it("registers the lease key, then launches with the spec's fields", async () => {
    const ref = await lambda.create(SPEC, FIRST);
    const launch = fake.calls.find((c) => c.path.endsWith("/launch"));
    expect(launch?.body).toEqual({
      region_name: "us-east-1",
      instance_type_name: "gpu_1x_a10",
      ssh_key_names: [HANDLE],
      name: HANDLE,
      tags: [
        { key: "crabbox-deployment", value: "test-deploy" },
        { key: "crabbox-lease", value: SPEC.leaseId },
      ],
    });
    expect(fake.calls.every((c) => c.authorization === `Bearer ${FAKE_API_KEY}`)).toBe(true);
    const [key] = fake.keys.values();
    expect(ref).toEqual({ handle: HANDLE, id: fake.liveInstances()[0]?.id, data: { sshKeyId: key?.id } });
  });

  it("asks for the configured image family and firewall ruleset", async () => {
    lambda = make({ LAMBDA_IMAGE_FAMILY: "ubuntu-22-04", LAMBDA_FIREWALL_RULESET_ID: "fw123" });
    await lambda.create({ ...SPEC, type: "gpu_8x_h100", region: "us-west-1" }, FIRST);
    expect(fake.calls.find((c) => c.path.endsWith("/launch"))?.body).toMatchObject({
      region_name: "us-west-1",
      instance_type_name: "gpu_8x_h100",
      image: { family: "ubuntu-22-04" },
      firewall_rulesets: [{ id: "fw123" }],
    });
  });

  it("reuses the key an earlier attempt registered", async () => {
    fake.addKey(HANDLE, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LWZvci1jcmFiYm94 other-comment");
    await lambda.create(SPEC, FIRST);
    expect(fake.calls.filter((c) => c.method === "POST" && c.path.endsWith("/ssh-keys"))).toHaveLength(0);
    expect(fake.keys.size).toBe(1);
  });

  it("fails definite when a key of that name holds another public key", async () => {
    fake.addKey(HANDLE, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG90aGVyLWtleQ someone");
    const err = await failure(lambda.create(SPEC, FIRST));
    expect(err.kind).toBe("definite");
    expect(fake.instances.size).toBe(0);
  });

  it("treats a launch answer without exactly one id as ambiguous", async () => {
    fake.overrides.push((c) => (c.path.endsWith("/launch") ? Response.json({ data: { instance_ids: ["a", "b"] } }) : undefined));
    expect((await failure(lambda.create(SPEC, FIRST))).kind).toBe("ambiguous");
  });

  it("reports capacity, and release without an id removes the key it registered", async () => {
    fake.overrides.push((c) =>
      c.path.endsWith("/launch") ? lambdaError(400, "instance-operations/launch/insufficient-capacity", "Not enough capacity to fulfill launch request.") : undefined,
    );
    expect((await failure(lambda.create(SPEC, FIRST))).kind).toBe("capacity");
    expect(fake.keys.size).toBe(1);
    expect(await releaseUntilDone({ handle: HANDLE })).toBe(1);
    expect(fake.keys.size).toBe(0);
  });

  it("refuses before any call when no region or type is known", async () => {
    lambda = make({ LAMBDA_DEFAULT_REGION: "" });
    expect((await failure(lambda.create(SPEC, FIRST))).kind).toBe("invalid");
    expect(fake.calls).toHaveLength(0);
  });
});

describe("errors", () => {
  it("maps Lambda codes and statuses to provider error kinds", () => {
    expect(errorKind(401, "global/invalid-api-key")).toBe("auth");
    expect(errorKind(403, "global/account-inactive")).toBe("auth");
    expect(errorKind(400, "instance-operations/launch/insufficient-capacity")).toBe("capacity");
    expect(errorKind(400, "global/quota-exceeded")).toBe("quota");
    expect(errorKind(404, "global/object-does-not-exist")).toBe("not_found");
    // A 404 proves "gone" only with the route's own code: a bare or route-level 404 proves nothing.
    expect(errorKind(404, undefined)).toBe("ambiguous");
    expect(errorKind(404, "global/not-found")).toBe("ambiguous");
    expect(errorKind(404, "global/not-found", ["global/not-found"])).toBe("not_found");
    expect(errorKind(400, "global/invalid-parameters")).toBe("invalid");
    expect(errorKind(429, undefined)).toBe("rate_limited");
    expect(errorKind(500, "global/internal-error")).toBe("ambiguous");
    expect(errorKind(408, undefined)).toBe("ambiguous");
    expect(errorKind(418, "something/new")).toBe("definite");
  });

  it("throttled launches are rate_limited for at least the 12 s launch interval", async () => {
    fake.overrides.push((c) => (c.path.endsWith("/launch") ? new Response("Too Many Requests", { status: 429 }) : undefined));
    const err = await failure(lambda.create(SPEC, FIRST));
    expect(err.kind).toBe("rate_limited");
    expect(err.options.retryAfterMs).toBeGreaterThanOrEqual(12_000);
  });

  it("network errors, 5xx and malformed success bodies are ambiguous", async () => {
    fake.overrides.push(() => {
      throw new TypeError("connection reset");
    });
    expect((await failure(lambda.inventory())).kind).toBe("ambiguous");
    fake.overrides.push(() => lambdaError(503, "global/internal-error", "An internal server error occurred."));
    expect((await failure(lambda.inventory())).kind).toBe("ambiguous");
    fake.overrides.push(() => Response.json({ data: [{ id: 1 }] }));
    expect((await failure(lambda.inventory())).kind).toBe("ambiguous");
  });

  it("never echoes the API key, user_data or a jupyter token", async () => {
    const echo = `key ${FAKE_API_KEY} rejected; body {"user_data": "#cloud-config secret", "jupyter_token": "03b7d30d9d3e"}`;
    fake.overrides.push(() => lambdaError(400, "global/invalid-parameters", echo));
    const err = await failure(lambda.inventory());
    expect(err.kind).toBe("invalid");
    for (const secret of [FAKE_API_KEY, "#cloud-config", "03b7d30d9d3e"]) expect(err.message).not.toContain(secret);
    lambda = make({ LAMBDA_API_KEY: "secret_wrong-key-987654321" });
    const auth = await failure(lambda.inventory());
    expect(auth.kind).toBe("auth");
    expect(auth.message).not.toContain("secret_wrong-key-987654321");
  });
});

describe("recover and inspect", () => {
  it("skips a stranger's instance that breaks the schema, but fails closed on one that may be ours", async () => {
    const id = fake.addInstance({ sshKeyName: HANDLE });
    fake.instances.set("odd", { id: "odd", status: "active", name: "someone's box" });
    expect(await lambda.recover(SPEC, HANDLE)).toEqual({ kind: "found", ref: { handle: HANDLE, id } });
    fake.instances.set("odd", { id: "odd", status: "active", ssh_key_names: [`${HANDLE}x`] });
    expect((await failure(lambda.recover(SPEC, HANDLE))).kind).toBe("ambiguous");
  });

  it("finds exactly one live instance by key name, ignoring terminated ones", async () => {
    fake.addInstance({ sshKeyName: HANDLE, status: "terminated" });
    expect(await lambda.recover(SPEC, HANDLE)).toEqual({ kind: "absent" });
    const id = fake.addInstance({ sshKeyName: HANDLE, status: "booting" });
    expect(await lambda.recover(SPEC, HANDLE)).toEqual({ kind: "found", ref: { handle: HANDLE, id } });
    fake.addInstance({ sshKeyName: HANDLE });
    expect(await lambda.recover(SPEC, HANDLE)).toEqual({ kind: "ambiguous", count: 2 });
  });

  it("reports an active instance as running at ip:LAMBDA_SSH_PORT as ubuntu, not yet ready", async () => {
    lambda = make({ LAMBDA_SSH_PORT: "2222" });
    const id = fake.addInstance({ sshKeyName: HANDLE });
    expect(await lambda.inspect({ handle: HANDLE, id }, SPEC)).toEqual({
      phase: "running",
      endpoint: { kind: "ssh", host: "198.51.100.2", port: 2222, user: "ubuntu" },
      ready: false,
      detail: "active",
    });
    expect((await lambda.inspect({ handle: HANDLE, id: "missing" }, SPEC)).phase).toBe("gone");
  });

  it("maps every Lambda status, and anything new to unknown", () => {
    const phase = (status: string, ip?: string) => instanceStatus({ status, ip } as Instance, 22).phase;
    expect(phase("booting")).toBe("pending");
    expect(phase("active")).toBe("pending");
    expect(phase("active", "203.0.113.9")).toBe("running");
    expect(phase("unhealthy")).toBe("unknown");
    expect(phase("terminating")).toBe("terminating");
    expect(phase("terminated")).toBe("gone");
    expect(phase("preempted")).toBe("failed");
    expect(phase("hibernating")).toBe("unknown");
  });
});

describe("release", () => {
  it("terminates, waits, then deletes the key; nothing remains when done", async () => {
    const ref = await lambda.create(SPEC, FIRST);
    expect(await lambda.release(ref, "destroy", SPEC)).toEqual({ done: false, detail: "terminate requested" });
    expect(await lambda.release(ref, "destroy", SPEC)).toEqual({ done: false, detail: "terminating" });
    expect(fake.keys.size).toBe(1);
    fake.settle();
    expect(await lambda.release(ref, "destroy", SPEC)).toEqual({ done: true });
    expect(fake.liveInstances()).toHaveLength(0);
    expect(fake.keys.size).toBe(0);
    expect(await lambda.release(ref, "destroy", SPEC)).toEqual({ done: true });
  });

  it("without an id, removes every instance launched under the lease's handle, then its key", async () => {
    fake.addKey(HANDLE, SPEC.sshPublicKey);
    fake.addInstance({ sshKeyName: HANDLE });
    expect(await releaseUntilDone({ handle: HANDLE })).toBe(2);
    expect(fake.keys.size).toBe(0);
    fake.addKey(HANDLE, SPEC.sshPublicKey);
    const first = fake.addInstance({ sshKeyName: HANDLE });
    const second = fake.addInstance({ sshKeyName: HANDLE });
    await releaseUntilDone({ handle: HANDLE });
    expect([fake.instances.get(first)?.status ?? "gone", fake.instances.get(second)?.status ?? "gone"]).not.toContain("active");
    expect(fake.keys.size).toBe(0);
  });

  it("counts a key that vanished before its delete (400 or 404) as deleted", async () => {
    for (const gone of [lambdaError(400, "global/invalid-parameters", "Invalid SSH key id."), lambdaError(404, "global/not-found", "Not found.")]) {
      fake.addKey(HANDLE, SPEC.sshPublicKey);
      fake.overrides.push((c) => {
        if (c.method !== "DELETE") return undefined;
        fake.keys.clear(); // deleted by an earlier, lost attempt
        return gone;
      });
      expect(await lambda.release({ handle: HANDLE }, "destroy", SPEC)).toEqual({ done: true });
    }
  });

  it("keeps retrying a key delete refused with a 400 while the key is still listed", async () => {
    fake.addKey(HANDLE, SPEC.sshPublicKey);
    fake.overrides.push((c) => (c.method === "DELETE" ? lambdaError(400, "global/invalid-parameters", "Something else.") : undefined));
    expect((await failure(lambda.release({ handle: HANDLE }, "destroy", SPEC))).kind).toBe("definite");
    expect(fake.keys.size).toBe(1);
  });

  it("never terminates a recorded id that does not carry the lease's key", async () => {
    const id = fake.addInstance({ sshKeyName: "someone-else" });
    expect(await lambda.release({ handle: HANDLE, id }, "destroy", SPEC)).toEqual({ done: true });
    expect(fake.instances.get(id)?.status).toBe("active");
  });

  it("offers destroy only", async () => {
    expect(lambda.capabilities.releaseActions).toEqual(["destroy"]);
    expect((await failure(lambda.release({ handle: HANDLE }, "stop", SPEC))).kind).toBe("unsupported");
  });
});

describe("inventory, catalog and doctor", () => {
  it("lists every instance and decodes only crabbox markers", async () => {
    await lambda.create(SPEC, FIRST);
    fake.addInstance({ sshKeyName: "laptop" });
    const page = await lambda.inventory();
    expect(page.next).toBeUndefined();
    expect(page.items.map((i) => i.marker)).toEqual([{ deploymentId: "test-deploy", leaseId: SPEC.leaseId, handle: HANDLE }, undefined]);
    expect(page.items.every((i) => i.createdAt === undefined && i.status === "active")).toBe(true);
  });

  it("catalogs types with price, GPUs and regions with capacity", async () => {
    expect(await lambda.catalog()).toEqual([
      { type: "gpu_1x_a10", description: "1x A10 (24 GB PCIe)", priceCentsPerHour: 75, gpus: 1, regions: ["us-east-1"], available: true },
    ]);
  });

  it("reports a healthy account, and a bad key as auth without throwing", async () => {
    const checks = await make({ LAMBDA_IMAGE_FAMILY: "ubuntu-22-04" }).doctor();
    expect(checks.filter((c) => c.status !== "ok")).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual(["api_key", "account", "inventory", "default_type", "default_region", "capacity", "image_family"]);
    const bad = await make({ LAMBDA_API_KEY: "secret_wrong-key-987654321" }).doctor();
    expect(bad).toMatchObject([{ name: "api_key", status: "fail", class: "auth" }]);
    expect(JSON.stringify(bad)).not.toContain("secret_wrong-key-987654321");
  });

  it("reports unknown types, missing capacity and bad configuration as checks", async () => {
    const checks = await make({ LAMBDA_DEFAULT_TYPE: "gpu_9x_nope", LAMBDA_IMAGE_FAMILY: "no-such-family" }).doctor();
    expect(checks.filter((c) => c.status === "fail").map((c) => [c.name, c.class])).toEqual([
      ["default_type", "config"],
      ["image_family", "config"],
    ]);
    const far = await make({ LAMBDA_DEFAULT_REGION: "asia-south-1" }).doctor();
    expect(far.find((c) => c.name === "capacity")).toMatchObject({ status: "warn", class: "capacity" });
    const broken = await make({ LAMBDA_BASE_URL: "http://cloud.lambda.ai/api/v1" }).doctor();
    expect(broken).toMatchObject([{ name: "config", status: "fail", class: "config" }]);
  });
});

describe("what Lambda itself would refuse, and what it lists", () => {
  it("validates key length and type, type and region names before any call", async () => {
    expect(await lambda.validate(SPEC)).toEqual([]);
    expect((await lambda.validate({ ...SPEC, sshPublicKey: `ssh-rsa ${"A".repeat(5_000)}` }))[0]).toMatch(/at most 4096/);
    expect((await lambda.validate({ ...SPEC, sshPublicKey: "ssh-dss AAAAB3NzaC1kc3M= old" }))[0]).toMatch(/OpenSSH public key/);
    expect((await lambda.validate({ ...SPEC, type: "GPU 1x" }))[0]).toMatch(/instance type/);
    expect((await lambda.validate({ ...SPEC, region: "mars" }))[0]).toMatch(/region/);
    expect(fake.calls).toEqual([]);
  });

  it("one account key outside the schema's bounds does not fail creates and releases", async () => {
    fake.keys.set("odd", { id: "odd", name: "laptop", public_key: "" }); // someone else's, minLength 1 broken
    const ref = await lambda.create(SPEC, FIRST);
    expect(await releaseUntilDone(ref)).toBeGreaterThan(0);
    expect(fake.keys.has("odd")).toBe(true);
  });

  it("an unparseable key that may be ours fails the listing closed", async () => {
    fake.keys.set("ours", { id: "ours", name: HANDLE, public_key: "" });
    expect((await failure(lambda.release({ handle: HANDLE }, "destroy", SPEC))).kind).toBe("ambiguous");
  });

  it("inventory leaves terminated instances out; recovery never binds a dying instance", async () => {
    fake.addInstance({ sshKeyName: HANDLE, status: "terminated" });
    fake.addInstance({ sshKeyName: HANDLE, status: "terminating" });
    fake.addInstance({ sshKeyName: HANDLE, status: "preempted" });
    expect((await lambda.inventory()).items.map((i) => i.status).sort()).toEqual(["preempted", "terminating"]);
    expect(await lambda.recover(SPEC, HANDLE)).toEqual({ kind: "absent" });
    const booting = fake.addInstance({ sshKeyName: HANDLE, status: "booting" });
    expect(await lambda.recover(SPEC, HANDLE)).toEqual({ kind: "found", ref: { handle: HANDLE, id: booting } });
  });

  it("a release removes the dying siblings under its handle too", async () => {
    const preempted = fake.addInstance({ sshKeyName: HANDLE, status: "preempted" });
    const ref = await lambda.create(SPEC, FIRST);
    await releaseUntilDone(ref);
    expect(fake.liveInstances().map((i) => i.id)).not.toContain(ref.id);
    expect(fake.calls.some((c) => c.path.endsWith("/terminate") && JSON.stringify(c.body).includes(preempted))).toBe(true);
  });

  it("a rate-limited terminate of its own listed instance is retried by id alone: one request a try", async () => {
    const ref = await lambda.create(SPEC, FIRST);
    for (let i = 0; i < 3; i++) fake.overrides.push((c) => (c.path.endsWith("/terminate") ? new Response("error code: 1015", { status: 429 }) : undefined));
    let current: typeof ref = ref;
    const listings = () => fake.calls.filter((c) => c.method === "GET" && c.path === "/api/v1/instances").length;
    const before = listings();
    for (let i = 0; i < 4; i++) {
      const step = await lambda.release(current, "destroy", SPEC);
      expect(step.done).toBe(false);
      if (step.data) current = { ...current, data: step.data };
    }
    // One listing verified the id; three terminates were refused, the fourth went through.
    expect(listings() - before).toBe(1);
    expect(fake.calls.filter((c) => c.path.endsWith("/terminate"))).toHaveLength(4);
    expect(fake.instances.get(ref.id!)?.status).toBe("terminating");
    expect(current.data).toEqual(ref.data); // the verified id is forgotten once the terminate went out
    fake.settle();
    expect((await lambda.release(current, "destroy", SPEC)).done).toBe(true);
    expect(fake.liveInstances()).toEqual([]);
  });

  it("sends an image id as an id and anything else as a family", async () => {
    const id = "0123abcd-0123-4abc-8def-0123456789ab";
    await lambda.create({ ...SPEC, image: id }, FIRST);
    expect(fake.calls.find((c) => c.path.endsWith("/launch"))?.body).toMatchObject({ image: { id } });
  });

  it("identifies a resource by the same id in create, recover and inventory", async () => {
    const ref = await lambda.create(SPEC, FIRST);
    const recovered = await lambda.recover(SPEC, HANDLE);
    const listed = (await lambda.inventory()).items.find((i) => i.marker?.leaseId === SPEC.leaseId);
    expect(recovered).toEqual({ kind: "found", ref: { handle: HANDLE, id: ref.id } });
    expect(listed?.id).toBe(ref.id);
  });

  it("doctor checks the image family and firewall ruleset in the default region", async () => {
    fake.rulesets.set("fw-west", { id: "fw-west", name: "west rules", region: { name: "us-west-1", description: "California" } });
    const checks = await make({ LAMBDA_IMAGE_FAMILY: "ubuntu-22-04", LAMBDA_FIREWALL_RULESET_ID: "fw-west" }).doctor();
    expect(checks.find((c) => c.name === "image_family")).toMatchObject({ status: "ok" });
    expect(checks.find((c) => c.name === "firewall_ruleset")).toMatchObject({ status: "fail", class: "config", detail: expect.stringContaining("us-west-1") });
    const elsewhere = await make({ LAMBDA_IMAGE_FAMILY: "ubuntu-22-04", LAMBDA_DEFAULT_REGION: "us-west-1" }).doctor();
    expect(elsewhere.find((c) => c.name === "image_family")).toMatchObject({ status: "fail", detail: expect.stringContaining("us-west-1") });
    const missing = await make({ LAMBDA_FIREWALL_RULESET_ID: "nope" }).doctor();
    expect(missing.find((c) => c.name === "firewall_ruleset")).toMatchObject({ status: "fail", class: "config" });
  });
});

describe("account-wide listings", () => {
  it("leases recovering at once share one recent instance listing", async () => {
    lambda = make({}, true);
    const other = make({}, true);
    await lambda.recover(SPEC, HANDLE);
    await other.recover({ ...SPEC, leaseId: "abcdefghijkl0999" }, "crabbox-test-deploy-abcdefghijkl0999");
    expect(fake.calls.filter((c) => c.method === "GET" && c.path === "/api/v1/instances")).toHaveLength(1);
  });

  it("a release never takes 'gone' from a shared listing: its own id is read directly", async () => {
    lambda = make({}, true);
    const ref = await lambda.create(SPEC, FIRST);
    fake.instances.clear();
    await lambda.recover(SPEC, HANDLE); // caches a listing without the instance
    fake.addInstance({ sshKeyName: HANDLE });
    const [id] = [...fake.instances.keys()];
    const step = await lambda.release({ ...ref, id }, "destroy", SPEC);
    expect(step.done).toBe(false);
    expect(fake.instances.get(id!)?.status).toBe("terminating");
  });
});
