// Leases on Sealos DevBoxes end to end inside workerd against the Kubernetes API emulator: the
// Secret made first with the lease's key (no private key ever leaves the cluster), readiness
// through SSHGate, stop (Paused) as the default, destroy with preconditions and the finalizer,
// conflicts re-read, adoption only by labels, and a sweep that touches only this deployment.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SealosAdapter } from "../../../src/providers/sealos/adapter";
import { leaseHandle, markerLabels } from "../../../src/providers/sealos/marker";
import { readSettings } from "../../../src/providers/sealos/settings";
import { sshBannerAnswers } from "../../../src/lease/probe";
import { sweepOrphans } from "../../../src/sweep/orphans";
import { ADMIN_TOKEN, alarmAt, call, leaseStub, mintToken, sshPublicKey, useFakeClock } from "../../support/api";
import { driveUntil, inState } from "../../support/drive";

const vars = env as unknown as Record<string, string>;
const BASE = vars.SEALOS_API_SERVER!;
const NS = vars.SEALOS_NAMESPACE!;
const DEVBOXES = `/apis/devbox.sealos.io/v1alpha2/namespaces/${NS}/devboxes`;
const SECRETS = `/api/v1/namespaces/${NS}/secrets`;
const HOUR = 3_600_000;
const kube = { authorization: `Bearer ${vars.SEALOS_TOKEN}`, "content-type": "application/json" };

async function control(path: string, body?: unknown): Promise<any> {
  const init = body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } };
  return (await fetch(`${BASE}/_emulator${path}`, init)).json();
}
const cluster = async () => (await control("/state")) as { devboxes: any[]; secrets: any[]; requests: any[] };
const requests = async (method: string, path: string) => (await cluster()).requests.filter((r) => r.method === method && r.path.startsWith(path));

let token: string;
let expectEmpty = true;
beforeEach(async () => {
  await control("/reset", {});
  useFakeClock();
  token = await mintToken(`dev${Math.random().toString(36).slice(2, 8)}`);
  expectEmpty = true;
});
afterEach(async () => {
  vi.useRealTimers();
  if (expectEmpty) {
    const left = await cluster();
    expect(left.devboxes.map((d) => d.metadata.name)).toEqual([]);
    expect(left.secrets.map((s) => s.metadata.name)).toEqual([]);
  }
  await control("/reset", {});
});

async function createLease(extra: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/leases", { token, body: { provider: "sealos", sshPublicKey: await sshPublicKey(), ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.json;
}

async function release(id: string, action?: "destroy") {
  await call("POST", `/v1/leases/${id}/release`, { token, body: action ? { action } : {} });
}

/** Moves the clock to the lease's next alarm and fires it, `n` times, whatever the state. */
async function fireAlarms(id: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    vi.setSystemTime(Math.max(Date.now(), (await alarmAt(id)) ?? Date.now()));
    await runDurableObjectAlarm(leaseStub(id));
  }
}

const decode = (b64: string) => new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));

describe("leases on the Sealos emulator", () => {
  it("makes the Secret with the lease's key, then the DevBox; ready through SSHGate; pauses by default, resumes, destroys", async () => {
    const lease = await createLease({ sshPublicKey: await sshPublicKey() });
    expect(lease.releaseAction).toBe("stop");
    const ready = await driveUntil(lease.id, token, inState("ready"));
    const name = leaseHandle(vars.CRABBOX_DEPLOYMENT_ID!, lease.id);
    expect(ready.endpoint).toEqual({ kind: "ssh", host: vars.SEALOS_SSH_HOST, port: Number(vars.SEALOS_SSHGATE_PORT), user: "devbox" });
    const state = await cluster();
    expect(state.devboxes).toHaveLength(1);
    expect(state.devboxes[0]).toMatchObject({ metadata: { name, labels: markerLabels(vars.CRABBOX_DEPLOYMENT_ID!, lease.id), finalizers: ["devbox.sealos.io/finalizer"] }, spec: { state: "Running", network: { type: "SSHGate" }, config: { user: "devbox" } } });
    // The Secret came first, labelled for SSHGate, and the controller took it over (owner reference).
    const secretPost = state.requests.find((r) => r.method === "POST" && r.path === SECRETS);
    const devboxPost = state.requests.find((r) => r.method === "POST" && r.path === DEVBOXES);
    expect(state.requests.indexOf(secretPost)).toBeLessThan(state.requests.indexOf(devboxPost));
    const lines = decode(secretPost.body.data.SEALOS_DEVBOX_AUTHORIZED_KEYS).trim().split("\n");
    const leaseKey = decode(secretPost.body.data.SEALOS_DEVBOX_PUBLIC_KEY);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(leaseKey.trim());
    expect(state.secrets[0]).toMatchObject({ metadata: { name, labels: { "app.kubernetes.io/part-of": "devbox" }, ownerReferences: [{ kind: "Devbox", uid: state.devboxes[0].metadata.uid }] } });
    // Creates name only fields the CRD declares: the emulator validates against the real schema.
    expect(devboxPost.status).toBe(201);

    // No private key of the DevBox reaches a response, an event or the lease's record.
    const privateKey = decode(secretPost.body.data.SEALOS_DEVBOX_PRIVATE_KEY);
    expect(privateKey).toMatch(/BEGIN OPENSSH PRIVATE KEY/);
    const seen = [
      JSON.stringify((await call("GET", `/v1/leases/${lease.id}`, { token })).json),
      JSON.stringify((await call("GET", `/v1/leases/${lease.id}/events`, { token })).json),
      JSON.stringify((await call("GET", `/v1/leases/${lease.id}`, { token: ADMIN_TOKEN })).json),
      await runInDurableObject(leaseStub(lease.id), async (_i, s) => JSON.stringify([...(await s.storage.list()).entries()])),
    ].join("\n");
    expect(seen).not.toContain("PRIVATE KEY");
    expect(seen).not.toContain(secretPost.body.data.SEALOS_DEVBOX_PRIVATE_KEY.slice(0, 40));
    expect(seen).not.toContain(privateKey.split("\n")[1]);

    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    await release(lease.id);
    await driveUntil(lease.id, token, inState("parked"));
    expect((await cluster()).devboxes[0]).toMatchObject({ spec: { state: "Paused" }, status: { state: "Paused", phase: "Paused" }, running: false });
    const patches = await requests("PATCH", `${DEVBOXES}/${name}`);
    expect(patches[0].body).toEqual({ metadata: { resourceVersion: expect.any(String) }, spec: { state: "Paused" } });
    await call("POST", `/v1/leases/${lease.id}/resume`, { token });
    await driveUntil(lease.id, token, inState("ready"));
    expect((await cluster()).devboxes[0]).toMatchObject({ spec: { state: "Running" }, running: true });
    await release(lease.id, "destroy");
    expect((await driveUntil(lease.id, token, inState("released"))).state).toBe("released");
    const [del] = await requests("DELETE", `${DEVBOXES}/${name}`);
    expect(del.body).toMatchObject({ kind: "DeleteOptions", preconditions: { uid: expect.any(String), resourceVersion: expect.any(String) } });
    expect((await requests("PATCH", `${DEVBOXES}/${name}`)).map((r) => r.body.spec.state)).toEqual(["Paused", "Running", "Shutdown"]);
  });

  it("destroy waits for the finalizer: the lease is released only once the DevBox answers 404", async () => {
    await control("/config", { finalizeMs: 3_600_000 });
    const lease = await createLease({ releaseAction: "destroy" });
    await driveUntil(lease.id, token, inState("ready"));
    await release(lease.id);
    await fireAlarms(lease.id, 4);
    const devbox = (await cluster()).devboxes[0];
    expect(devbox.metadata.deletionTimestamp).toEqual(expect.any(String));
    expect((await call("GET", `/v1/leases/${lease.id}`, { token })).json.state).toBe("releasing");
    await control("/config", { finalizeMs: 0 });
    expect((await driveUntil(lease.id, token, inState("released"))).state).toBe("released");
  });

  it("a stale resourceVersion is re-read and the stop retried, never a stuck release", async () => {
    const lease = await createLease();
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    const name = leaseHandle(vars.CRABBOX_DEPLOYMENT_ID!, lease.id);
    await control("/faults", { faults: [{ method: "PATCH", path: `${DEVBOXES}/${name}`, kind: "status", status: 409, times: 2 }] });
    await release(lease.id);
    await driveUntil(lease.id, token, inState("parked"));
    expect((await requests("PATCH", `${DEVBOXES}/${name}`)).map((r) => r.status)).toEqual([409, 409, 200]);
    await release(lease.id, "destroy");
    await driveUntil(lease.id, token, inState("released"));
  });

  it("a commit in progress holds the state change (the CRD's rule); the stop lands once it ends", async () => {
    const lease = await createLease();
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    const name = leaseHandle(vars.CRABBOX_DEPLOYMENT_ID!, lease.id);
    await control(`/instances/${name}/status`, { status: "Committing" });
    await release(lease.id);
    await fireAlarms(lease.id, 3);
    const refused = await requests("PATCH", `${DEVBOXES}/${name}`);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((r) => r.status === 422)).toBe(true);
    expect((await call("GET", `/v1/leases/${lease.id}`, { token })).json.state).toBe("releasing");
    await control(`/instances/${name}/status`, { status: "Success" });
    await driveUntil(lease.id, token, inState("parked"));
    await release(lease.id, "destroy");
    await driveUntil(lease.id, token, inState("released"));
  });

  it("a lost create answer is found by name and adopted by its labels: exactly one DevBox", async () => {
    await control("/faults", { faults: [{ method: "POST", path: DEVBOXES, kind: "lost_response" }] });
    const lease = await createLease({ releaseAction: "destroy" });
    const ready = await driveUntil(lease.id, token, inState("ready"));
    const state = await cluster();
    expect(state.devboxes).toHaveLength(1);
    expect(ready.resourceId).toBe(state.devboxes[0].metadata.uid);
    await release(lease.id);
    await driveUntil(lease.id, token, inState("released"));
  });

  it("never adopts a DevBox of the lease's name that it did not create, and leaves no Secret for it", async () => {
    expectEmpty = false;
    const id = "takenname0000001";
    const name = leaseHandle(vars.CRABBOX_DEPLOYMENT_ID!, id);
    const foreign = { apiVersion: "devbox.sealos.io/v1alpha2", kind: "Devbox", metadata: { name }, spec: { state: "Running", resource: { cpu: "1" }, image: "someone/else", network: { type: "SSHGate" }, config: {} } };
    expect((await fetch(`${BASE}${DEVBOXES}`, { method: "POST", headers: kube, body: JSON.stringify(foreign) })).status).toBe(201);
    const lease = await createLease({ id });
    const final = await driveUntil(lease.id, token, inState("failed", "released"));
    expect(final.failure.message).toMatch(/did not create; refusing to adopt/);
    const state = await cluster();
    expect(state.devboxes.map((d) => [d.metadata.name, d.spec.image, d.spec.state])).toEqual([[name, "someone/else", "Running"]]);
    // Only the controller's own Secret for the foreign DevBox: none of ours.
    expect(state.secrets.map((s) => s.metadata.labels["app.kubernetes.io/managed-by"])).toEqual(["sealos"]);
    expect(await requests("POST", SECRETS)).toEqual([]);
  });

  it("the sweep reclaims only this deployment's labelled DevBoxes no lease claims, Secret included", async () => {
    expectEmpty = false;
    const other = { ...markerLabels("another-deployment", "otherlease000001") };
    const mk = (name: string, labels?: Record<string, string>) =>
      fetch(`${BASE}${DEVBOXES}`, { method: "POST", headers: kube, body: JSON.stringify({ apiVersion: "devbox.sealos.io/v1alpha2", kind: "Devbox", metadata: { name, labels, annotations: labels ? { "crabbox.dev/deployment-id": "x" } : undefined }, spec: { state: "Running", resource: { cpu: "1" }, image: "i", network: { type: "SSHGate" }, config: {} } }) });
    const orphan = leaseHandle(vars.CRABBOX_DEPLOYMENT_ID!, "orphanlease00001");
    await mk(orphan, markerLabels(vars.CRABBOX_DEPLOYMENT_ID!, "orphanlease00001"));
    await mk("cb-0000000-otherlease000001", other);
    await mk("my-own-devbox");
    // The orphan's annotation names this deployment exactly (the sweep's marker).
    await fetch(`${BASE}${DEVBOXES}/${orphan}`, { method: "PATCH", headers: { ...kube, "content-type": "application/merge-patch+json" }, body: JSON.stringify({ metadata: { annotations: { "crabbox.dev/deployment-id": vars.CRABBOX_DEPLOYMENT_ID } } }) });
    const first = (await sweepOrphans(env, Date.now(), { trigger: "admin", providers: ["sealos"] })).providers[0]!;
    expect(first).toMatchObject({ complete: true, ours: 1, reclaimed: 0 });
    for (let i = 1; i <= 4; i++) await sweepOrphans(env, Date.now() + i * HOUR, { trigger: "admin", providers: ["sealos"] });
    const state = await cluster();
    expect(state.devboxes.map((d) => d.metadata.name).sort()).toEqual(["cb-0000000-otherlease000001", "my-own-devbox"]);
    expect(state.secrets.map((s) => s.metadata.name).sort()).toEqual(["cb-0000000-otherlease000001", "my-own-devbox"]);
  });

  it("a cluster without Paused: doctor warns and stop parks with Stopped", async () => {
    await control("/config", { pausedSupported: false });
    const report = await call("GET", "/v1/providers/sealos/doctor", { token: ADMIN_TOKEN });
    expect(report.json.checks).toContainEqual(expect.objectContaining({ name: "paused", status: "warn" }));
    const lease = await createLease();
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    await release(lease.id);
    await driveUntil(lease.id, token, inState("parked"));
    expect((await cluster()).devboxes[0]).toMatchObject({ spec: { state: "Stopped" }, status: { phase: "Stopped" } });
    await release(lease.id, "destroy");
    await driveUntil(lease.id, token, inState("released"));
  });

  it("an owner-referenced Secret that outlives its DevBox is deleted by the release", async () => {
    await control("/config", { garbageCollect: false });
    const lease = await createLease({ releaseAction: "destroy" });
    await driveUntil(lease.id, token, inState("ready"));
    await release(lease.id);
    await driveUntil(lease.id, token, inState("released"));
    expect((await requests("DELETE", SECRETS)).map((r) => r.body.preconditions)).toEqual([{ uid: expect.any(String), resourceVersion: expect.any(String) }]);
  });

  it("doctor: all checks pass here; a token that may not create Secrets is told what to do", async () => {
    expectEmpty = false;
    const ok = await call("GET", "/v1/providers/sealos/doctor", { token: ADMIN_TOKEN });
    expect(ok.json.ok, JSON.stringify(ok.json.checks)).toBe(true);
    expect(ok.json.checks.map((c: any) => c.name)).toEqual(["api server", "devbox crd", "permissions", "paused", "image", "route"]);
    await control("/config", { secretsAllowed: false });
    const report = await call("GET", "/v1/providers/sealos/doctor", { token: ADMIN_TOKEN });
    expect(report.json.checks).toContainEqual(expect.objectContaining({ name: "permissions", status: "fail", detail: expect.stringContaining("secrets create"), hint: expect.stringContaining("README") }));
    const other = new SealosAdapter(readSettings({ deploymentId: "d", vars: { ...vars, SEALOS_TOKEN: "sealos_other-tenant-token" } }));
    expect(await other.doctor()).toContainEqual(expect.objectContaining({ name: "permissions", status: "fail" }));
  });

  it("doctor tells an unreachable API server apart from a configuration problem", async () => {
    expectEmpty = false;
    const unreachable = new SealosAdapter(readSettings({ deploymentId: "d", vars: { ...vars, SEALOS_API_SERVER: "http://127.0.0.1:1" } }));
    expect(await unreachable.doctor()).toEqual([expect.objectContaining({ name: "api server", status: "fail", class: "network", hint: expect.stringContaining("unreachable") })]);
    const yaml = new SealosAdapter(readSettings({ deploymentId: "d", vars: { ...vars, SEALOS_API_SERVER: "", SEALOS_TOKEN: "", SEALOS_KUBECONFIG: "apiVersion: v1\nkind: Config" } }));
    expect(await yaml.doctor()).toEqual([expect.objectContaining({ name: "config", status: "fail", detail: expect.stringContaining("SEALOS_KUBECONFIG must be JSON") })]);
  });

  it("NodePort: the endpoint is the node host and the DevBox's nodePort, whose sshd answers", async () => {
    expectEmpty = false;
    const adapter = new SealosAdapter(readSettings({ deploymentId: vars.CRABBOX_DEPLOYMENT_ID!, vars: { ...vars, SEALOS_NETWORK_TYPE: "NodePort", SEALOS_SSH_HOST: "127.14.0.2" } }));
    expect(adapter.capabilities).toMatchObject({ route: "direct", readiness: "ssh_banner" });
    const spec = { leaseId: "nodeportlease001", deploymentId: vars.CRABBOX_DEPLOYMENT_ID!, owner: "dev", sshPublicKey: await sshPublicKey() };
    const ref = await adapter.create(spec, { handle: adapter.handle(spec) });
    let status = await adapter.inspect(ref, spec);
    for (let i = 0; i < 5 && status.phase !== "running"; i++) status = await adapter.inspect(ref, spec);
    const devbox = (await cluster()).devboxes[0];
    expect(status).toMatchObject({ phase: "running", endpoint: { kind: "ssh", host: "127.14.0.2", port: devbox.status.network.nodePort, user: "devbox" }, data: { uid: devbox.metadata.uid } });
    expect(await sshBannerAnswers("127.14.0.2", devbox.status.network.nodePort)).toBe(true);
    let step = await adapter.release(ref, "destroy", spec);
    for (let i = 0; i < 6 && !step.done; i++) step = await adapter.release(ref, "destroy", spec);
    expect(step.done).toBe(true);
    expect((await cluster()).devboxes).toEqual([]);
  });

  it("answers to its aliases and refuses a type or a region before any lease exists", async () => {
    expectEmpty = false;
    for (const provider of ["sealos-devbox", "sealos-dev"]) {
      const res = await call("POST", "/v1/leases", { token, body: { provider, sshPublicKey: await sshPublicKey(), type: "big" } });
      expect([res.status, res.json.error.code]).toEqual([400, "invalid_for_provider"]);
    }
    expect(await requests("POST", DEVBOXES)).toEqual([]);
  });
});

describe("side objects on the Sealos emulator", () => {
  it("the sweep removes a Secret left by a lease that ended, listing Secrets as metadata only; an unknown lease's is only reported", async () => {
    expectEmpty = false;
    const lease = await createLease({ releaseAction: "destroy" });
    await driveUntil(lease.id, token, inState("ready"));
    await release(lease.id);
    await driveUntil(lease.id, token, inState("released"));
    // As if the ended lease's Secret had outlived everything: labelled as the adapter labels it.
    const mkSecret = (leaseId: string) => {
      const name = leaseHandle(vars.CRABBOX_DEPLOYMENT_ID!, leaseId);
      const labels = { "app.kubernetes.io/part-of": "devbox", ...markerLabels(vars.CRABBOX_DEPLOYMENT_ID!, leaseId) };
      const body = { apiVersion: "v1", kind: "Secret", metadata: { name, labels, annotations: { "crabbox.dev/deployment-id": vars.CRABBOX_DEPLOYMENT_ID } }, type: "Opaque", data: { SEALOS_DEVBOX_PRIVATE_KEY: btoa("not for the worker") } };
      return fetch(`${BASE}${SECRETS}`, { method: "POST", headers: kube, body: JSON.stringify(body) });
    };
    expect((await mkSecret(lease.id)).status).toBe(201);
    expect((await mkSecret("unknownlease0001")).status).toBe(201);

    const report = (await sweepOrphans(env, Date.now(), { trigger: "admin", providers: ["sealos"] })).providers[0]!;
    expect(report.sideObjects).toMatchObject({ listed: 2, stranded: 2, removed: 1 });
    expect(report.sideObjects!.objects).toContainEqual(expect.objectContaining({ kind: "secret", leaseId: "unknownlease0001", action: "reported" }));
    expect((await cluster()).secrets.map((s) => s.metadata.name)).toEqual([leaseHandle(vars.CRABBOX_DEPLOYMENT_ID!, "unknownlease0001")]);
    const listings = (await requests("GET", SECRETS)).filter((r) => r.path === SECRETS);
    expect(listings.length).toBeGreaterThan(0);
    for (const listing of listings) expect(listing.accept).toMatch(/as=PartialObjectMetadataList;g=meta\.k8s\.io;v=v1/);
    expect(JSON.stringify(report)).not.toContain(btoa("not for the worker"));

    // A token that may not list Secrets: doctor warns (leases still work), the sweep says so and removes nothing.
    await control("/config", { secretListAllowed: false });
    const doctor = await call("GET", "/v1/providers/sealos/doctor", { token: ADMIN_TOKEN });
    expect(doctor.json.checks).toContainEqual(expect.objectContaining({ name: "permissions", status: "warn", detail: expect.stringContaining("secrets list") }));
    const blind = (await sweepOrphans(env, Date.now(), { trigger: "admin", providers: ["sealos"] })).providers[0]!;
    expect(blind.sideObjects).toMatchObject({ listed: 0, removed: 0, error: expect.stringContaining("Forbidden") });
    expect(blind.failures).toBe(1);
    await control("/reset", {});
  });
});
