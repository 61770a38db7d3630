// The Lambda adapter inside workerd against the Lambda emulator over loopback, driven through
// its control plane (test/emulators/CONTROL.md): full lease lifecycle, lost responses, faults,
// ownership markers, and nothing of ours left behind.
import { env } from "cloudflare:test";
import { connect } from "cloudflare:sockets";
import { beforeEach, describe, expect, it } from "vitest";
import { lambdaProvider } from "../../../src/providers/lambda";
import { ProviderError, type LeaseSpec, type ProviderAdapter, type ResourceRef } from "../../../src/providers/types";

const DEPLOYMENT = "test-deploy";
const VARS = env as unknown as Record<string, string | undefined>;
const API = VARS.LAMBDA_BASE_URL!;
const CONTROL = `${API.replace(/\/api\/v1\/?$/, "")}/_emulator`;
const LAUNCH = "/api/v1/instance-operations/launch";
/** Public halves only: the emulator's machines accept just these keys. */
const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAGpL1iGtiEo1Vmj+dJv+eYQJYvHDWxzte77v+fBkU/R lease-a";
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID+kMxpqmS1484JCEkaD5IFZpZeGkCy21Yg2ZpJkCihT lease-b";
const MAX_RELEASE_STEPS = 20;

interface EmulatorState {
  instances: { id: string; status: string; ssh_key_names: string[] }[];
  sshKeys: { id: string; name: string }[];
  requests: { method: string; path: string; body: unknown; status: number | null }[];
}

const lease = (leaseId: string, sshPublicKey = KEY_A): LeaseSpec => ({ leaseId, deploymentId: DEPLOYMENT, owner: "alice", sshPublicKey });
const adapter = (vars: Record<string, string> = {}): ProviderAdapter => lambdaProvider.create({ deploymentId: DEPLOYMENT, vars: { ...VARS, ...vars } });

async function control(path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${CONTROL}${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  expect(response.ok, `${path}: ${response.status}`).toBe(true);
  return response.json();
}
const state = () => control("/state") as Promise<EmulatorState>;
const faults = (...list: Record<string, unknown>[]) => control("/faults", { faults: list });

/** Calls the Lambda API directly, as someone other than the adapter would. */
async function api(method: string, path: string, json?: unknown): Promise<Response> {
  return fetch(`${API}${path}`, {
    method,
    headers: { authorization: `Bearer ${VARS.LAMBDA_API_KEY}`, "content-type": "application/json" },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

async function releaseUntilDone(lambda: ProviderAdapter, ref: ResourceRef, spec: LeaseSpec): Promise<void> {
  for (let step = 0; step < MAX_RELEASE_STEPS; step++) {
    if ((await lambda.release(ref, "destroy", spec)).done) return;
  }
  throw new Error(`release not done after ${MAX_RELEASE_STEPS} steps`);
}

async function nothingLeft(): Promise<void> {
  const now = await state();
  expect(now.instances.filter((i) => i.status !== "terminated")).toEqual([]);
  expect(now.sshKeys).toEqual([]);
}

async function sshBanner(host: string, port: number): Promise<string> {
  const socket = connect({ hostname: host, port });
  const reader = socket.readable.getReader();
  const { value } = await reader.read();
  await socket.close();
  return new TextDecoder().decode(value);
}

beforeEach(async () => {
  await control("/reset", {});
  await control("/config", { bootMs: 0, terminateMs: 0, launchIntervalMs: 0 });
});

describe("Lambda adapter on the emulator", () => {
  it("creates, reports running with a live SSH banner, and releases leaving nothing behind", async () => {
    const lambda = adapter();
    const spec = lease("leaseaaaa0001");
    const ref = await lambda.create(spec, { handle: lambda.handle(spec), number: 1, firstAt: Date.now() });
    expect(ref.handle).toBe("crabbox-test-deploy-leaseaaaa0001");
    const status = await lambda.inspect(ref, spec);
    if (status.phase !== "running" || status.endpoint.kind !== "ssh") throw new Error(`not running: ${status.phase}`);
    expect(status.endpoint).toMatchObject({ user: "ubuntu", port: Number(VARS.LAMBDA_SSH_PORT) });
    expect(status.ready).toBe(false);
    expect(await sshBanner(status.endpoint.host, status.endpoint.port)).toMatch(/^SSH-2\.0-/);
    await releaseUntilDone(lambda, ref, spec);
    await nothingLeft();
  });

  it("recovers exactly one instance after the launch response was lost", async () => {
    const lambda = adapter();
    const spec = lease("leaseaaaa0002");
    const handle = lambda.handle(spec);
    await faults({ method: "POST", path: LAUNCH, kind: "lost_response" });
    expect((await failure(lambda.create(spec, { handle, number: 1, firstAt: 0 }))).kind).toBe("ambiguous");
    const found = await lambda.recover(spec, handle);
    const [launched] = (await state()).instances;
    expect(found).toEqual({ kind: "found", ref: { handle, id: launched?.id } });
    expect((await state()).instances).toHaveLength(1);
    await releaseUntilDone(lambda, (found as { ref: { handle: string; id: string } }).ref, spec);
    await nothingLeft();
  });

  it("reports capacity, and release without an id removes the key object", async () => {
    const lambda = adapter();
    const spec = lease("leaseaaaa0003");
    const handle = lambda.handle(spec);
    await faults({ method: "POST", path: LAUNCH, kind: "capacity" });
    expect((await failure(lambda.create(spec, { handle, number: 1, firstAt: 0 }))).kind).toBe("capacity");
    expect((await state()).sshKeys.map((k) => k.name)).toEqual([handle]);
    await releaseUntilDone(lambda, { handle }, spec);
    await nothingLeft();
  });

  it("answers the launch rate limit as rate_limited with Lambda's 12 s interval", async () => {
    await control("/config", { launchIntervalMs: 12_000 });
    const lambda = adapter();
    const first = lease("leaseaaaa0004");
    const second = lease("leaseaaaa0005", KEY_B);
    const ref = await lambda.create(first, { handle: lambda.handle(first), number: 1, firstAt: 0 });
    const err = await failure(lambda.create(second, { handle: lambda.handle(second), number: 1, firstAt: 0 }));
    expect(err.kind).toBe("rate_limited");
    expect(err.options.retryAfterMs).toBeGreaterThanOrEqual(12_000);
    await releaseUntilDone(lambda, ref, first);
    await releaseUntilDone(lambda, { handle: lambda.handle(second) }, second);
    await nothingLeft();
  });

  it("reports a bad key as auth without ever showing it", async () => {
    const wrongKey = "secret_wrong-lambda-key-0123456789";
    const lambda = adapter({ LAMBDA_API_KEY: wrongKey });
    const err = await failure(lambda.inventory());
    expect(err.kind).toBe("auth");
    expect(err.message).not.toContain(wrongKey);
    const checks = await lambda.doctor();
    expect(checks).toMatchObject([{ name: "api_key", status: "fail", class: "auth" }]);
    expect(JSON.stringify(checks)).not.toContain(wrongKey);
  });

  it("never puts the API key or user_data into an error message", async () => {
    const echo = `rejected ${VARS.LAMBDA_API_KEY} with {"user_data": "#cloud-config runcmd secret"}`;
    await faults({ method: "POST", path: LAUNCH, kind: "status", status: 400, code: "global/invalid-parameters", message: echo });
    const spec = lease("leaseaaaa0006");
    const lambda = adapter();
    const err = await failure(lambda.create(spec, { handle: lambda.handle(spec), number: 1, firstAt: 0 }));
    expect(err.kind).toBe("invalid");
    expect(err.message).not.toContain(VARS.LAMBDA_API_KEY!);
    expect(err.message).not.toContain("#cloud-config");
    const sent = (await state()).requests.filter((r) => r.path === LAUNCH);
    expect(JSON.stringify(sent)).not.toContain("user_data");
  });

  it("never binds one of two instances carrying the lease's key name, but its release removes both", async () => {
    const lambda = adapter();
    const spec = lease("leaseaaaa0007");
    const handle = lambda.handle(spec);
    await lambda.create(spec, { handle, number: 1, firstAt: 0 });
    const twin = await api("POST", "/instance-operations/launch", { region_name: "us-east-1", instance_type_name: "gpu_1x_a10", ssh_key_names: [handle] });
    expect(twin.status).toBe(200);
    expect(await lambda.recover(spec, handle)).toEqual({ kind: "ambiguous", count: 2 });
    await releaseUntilDone(lambda, { handle }, spec);
    await nothingLeft();
  });

  it("an exact release (the sweep's reclaim) leaves a sibling under the same handle alone", async () => {
    const lambda = adapter();
    const spec = lease("leaseaaaa0010");
    const handle = lambda.handle(spec);
    const kept = await lambda.create(spec, { handle, number: 1, firstAt: 0 });
    const twin = await api("POST", "/instance-operations/launch", { region_name: "us-east-1", instance_type_name: "gpu_1x_a10", ssh_key_names: [handle] });
    const orphanId = ((await twin.json()) as { data: { instance_ids: string[] } }).data.instance_ids[0]!;
    for (let step = 0; step < MAX_RELEASE_STEPS; step++) {
      if ((await lambda.release({ handle, id: orphanId }, "destroy", spec, { exact: true })).done) break;
    }
    const live = (await state()).instances.filter((i) => i.status !== "terminated");
    expect(live.map((i) => i.id)).toEqual([kept.id]);
    expect((await state()).sshKeys.map((k) => k.name)).toEqual([handle]);
    await releaseUntilDone(lambda, kept, spec);
    await nothingLeft();
  });

  it("takes a 400 on key delete as gone only when a fresh listing agrees", async () => {
    const unknown = await api("DELETE", "/ssh-keys/0123456789abcdef0123456789abcdef");
    expect(unknown.status).toBe(400);
    const lambda = adapter();
    const spec = lease("leaseaaaa0008");
    const handle = lambda.handle(spec);
    await api("POST", "/ssh-keys", { name: handle, public_key: KEY_A });
    const [key] = (await state()).sshKeys;
    await faults({ method: "DELETE", path: `/api/v1/ssh-keys/${key?.id}`, kind: "status", status: 400, code: "global/invalid-parameters" });
    // The key is still there: the release is not done, and says why.
    await expect(lambda.release({ handle }, "destroy", spec)).rejects.toMatchObject({ kind: "definite" });
    expect((await state()).sshKeys).toHaveLength(1);
    expect(await lambda.release({ handle }, "destroy", spec)).toEqual({ done: true });
    expect((await state()).sshKeys).toEqual([]);
  });

  it("inventory decodes our markers and leaves foreign instances unmarked", async () => {
    const lambda = adapter();
    const spec = lease("leaseaaaa0009");
    const ref = await lambda.create(spec, { handle: lambda.handle(spec), number: 1, firstAt: 0 });
    await api("POST", "/ssh-keys", { name: "laptop", public_key: KEY_B });
    const foreign = await api("POST", "/instance-operations/launch", {
      region_name: "us-east-1",
      instance_type_name: "gpu_1x_a10",
      ssh_key_names: ["laptop"],
      tags: [{ key: "crabbox-lease", value: "Not A Lease" }],
    });
    expect(foreign.status).toBe(200);
    const page = await lambda.inventory();
    expect(page.next).toBeUndefined();
    const ours = page.items.find((i) => i.id === ref.id);
    expect(ours?.marker).toEqual({ deploymentId: DEPLOYMENT, leaseId: "leaseaaaa0009", handle: ref.handle });
    expect(page.items.filter((i) => i.id !== ref.id).map((i) => i.marker)).toEqual([undefined]);
  });

  it("doctor passes on a healthy account and catalog lists the default type", async () => {
    const checks = await adapter().doctor();
    expect(checks.filter((c) => c.status === "fail")).toEqual([]);
    const catalog = await adapter().catalog();
    expect(catalog.find((entry) => entry.type === VARS.LAMBDA_DEFAULT_TYPE)).toMatchObject({ priceCentsPerHour: expect.any(Number), gpus: expect.any(Number) });
  });
});
