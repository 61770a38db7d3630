// Leases on Coder end to end inside workerd against the emulator: workspaces created for the
// lease's owner, readiness from the agent, stop as the default followed on every path but a
// missed acknowledgement, adoption by name only of this lease's own workspace, and a sweep that
// never touches other deployments' or unprefixed workspaces.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CoderAdapter, parameterProblems } from "../../../src/providers/coder/adapter";
import { leaseHandle } from "../../../src/providers/coder/marker";
import { sweepOrphans } from "../../../src/sweep/orphans";
import { ADMIN_TOKEN, call, leaseStub, mintToken, sshPublicKey, useFakeClock } from "../../support/api";
import { driveUntil, inState } from "../../support/drive";

const vars = env as unknown as Record<string, string>;
const BASE = vars.CODER_URL!;
const HOUR = 3_600_000;
const admin = { "coder-session-token": vars.CODER_SESSION_TOKEN!, "content-type": "application/json" };

async function control(path: string, body?: unknown): Promise<any> {
  const init = body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } };
  return (await fetch(`${BASE}/_emulator${path}`, init)).json();
}
const workspaces = async () => (await control("/state")).workspaces as any[];

let token: string;
let owner: string;
let n = 0;
let expectEmpty = true;
beforeEach(async () => {
  await control("/reset", {});
  useFakeClock();
  owner = `dev${++n}`;
  token = await mintToken(owner);
  expectEmpty = true;
});
afterEach(async () => {
  vi.useRealTimers();
  if (expectEmpty) expect(await workspaces()).toEqual([]);
  await control("/reset", {});
});

async function createLease(extra: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/leases", { token, body: { provider: "coder", sshPublicKey: await sshPublicKey(), ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.json;
}

describe("leases on the Coder emulator", () => {
  it("creates the workspace for the lease's owner, is ready when the agent is, stops by default, resumes, then deletes", async () => {
    const lease = await createLease();
    expect(lease.releaseAction).toBe("stop");
    const ready = await driveUntil(lease.id, token, inState("ready"));
    const [ws] = await workspaces();
    expect(ws).toMatchObject({ owner_name: owner, name: expect.stringMatching(new RegExp(`^cb-[0-9a-f]{7}-${lease.id}$`)) });
    expect(ready.endpoint).toEqual({ kind: "proxy", user: "coder", host: `coder.${ws.name}`, proxyCommand: ["coder", "ssh", "--stdio", `${owner}/${ws.name}`], url: BASE });
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    await driveUntil(lease.id, token, inState("parked"));
    expect((await workspaces())[0].latest_build).toMatchObject({ transition: "stop", status: "stopped" });
    await call("POST", `/v1/leases/${lease.id}/resume`, { token });
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/release`, { token, body: { action: "destroy" } });
    expect((await driveUntil(lease.id, token, inState("released"))).state).toBe("released");
  });

  it("at its TTL a stop lease parks (a stopped workspace costs nothing), cannot resume, and retention deletes it", async () => {
    const lease = await createLease({ ttl: "1h", idleTimeout: "2h" });
    await driveUntil(lease.id, token, inState("ready"));
    await call("POST", `/v1/leases/${lease.id}/ack`, { token });
    vi.setSystemTime(Date.parse(lease.createdAt) + HOUR);
    await runDurableObjectAlarm(leaseStub(lease.id));
    const parked = await driveUntil(lease.id, token, inState("parked"));
    expect(parked.endReason).toBe("ttl_expired");
    expect((await call("POST", `/v1/leases/${lease.id}/resume`, { token })).json.error.code).toBe("lease_expired");
    const final = await driveUntil(lease.id, token, inState("released"), 8 * 24 * HOUR);
    expect(final.endReason).toBe("retention_expired");
  });

  it("a 404 that was only transient never ends a release: the listing must agree", async () => {
    const lease = await createLease({ releaseAction: "destroy" });
    const ready = await driveUntil(lease.id, token, inState("ready"));
    await control("/faults", { faults: [{ method: "GET", path: `/api/v2/workspaces/${ready.resourceId}`, kind: "status", status: 404, times: 1 }] });
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    expect((await driveUntil(lease.id, token, inState("released", "failed"))).state).toBe("released");
    // afterEach: no workspace left (it was deleted, not abandoned on the 404).
  });

  it("a missed acknowledgement deletes what was never used", async () => {
    const lease = await createLease();
    const final = await driveUntil(lease.id, token, inState("released", "parked"));
    expect([final.state, final.endReason]).toEqual(["released", "ack_timeout"]);
  });

  it("a failed build fails the lease and rolls the workspace back per the recorded action (stop)", async () => {
    await control("/config", { failNextStart: "boom" });
    const lease = await createLease();
    const parked = await driveUntil(lease.id, token, inState("parked", "failed"));
    expect(parked).toMatchObject({ state: "parked", endReason: "provisioning_failed", failure: { code: "machine_failed", message: expect.stringContaining("build failed") } });
    expect((await workspaces())[0].latest_build).toMatchObject({ transition: "stop", status: "stopped" });
    // Ending it now deletes the stopped workspace.
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    expect((await driveUntil(lease.id, token, inState("failed", "released"))).state).toBe("released");
  });

  it("a lost create answer is found by name: exactly one workspace", async () => {
    await control("/faults", { faults: [{ method: "POST", path: `/api/v2/organizations/9c4f6b1e-2f0a-4d7b-9f51-0c1e2d3a4b5c/members/${owner}/workspaces`, kind: "lost_response" }] });
    const lease = await createLease({ releaseAction: "destroy" });
    const ready = await driveUntil(lease.id, token, inState("ready"));
    const all = await workspaces();
    expect(all).toHaveLength(1);
    expect(ready.resourceId).toBe(all[0].id);
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    await driveUntil(lease.id, token, inState("released"));
  });

  it("never adopts a workspace under the lease's name that another template made", async () => {
    expectEmpty = false;
    const id = "takenname0000001";
    const foreignName = leaseHandle(vars.CRABBOX_DEPLOYMENT_ID!, id);
    const res = await fetch(`${BASE}/api/v2/organizations/9c4f6b1e-2f0a-4d7b-9f51-0c1e2d3a4b5c/members/${owner}/workspaces`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: foreignName, template_version_id: "11111111-2222-3333-4444-555555555555" }),
    });
    expect(res.status).toBe(201);
    const lease = await createLease({ id });
    const final = await driveUntil(lease.id, token, inState("failed", "released"));
    expect(final.failure.message).toMatch(/did not create; refusing to adopt/);
    expect((await workspaces()).map((w) => w.name)).toEqual([foreignName]); // untouched
  });

  it("creates in the Coder user an admin set on the owner's token, never in the owner name's namespace", async () => {
    const res = await call("POST", "/v1/admin/tokens", { token: ADMIN_TOKEN, body: { owner: "asmith", providerUsers: { coder: "alice-smith" } } });
    expect(res.status, res.text).toBe(201);
    expect(res.json.info.providerUsers).toEqual({ coder: "alice-smith" });
    token = res.json.token;
    const lease = await createLease({ releaseAction: "destroy" });
    const ready = await driveUntil(lease.id, token, inState("ready"));
    const all = await workspaces();
    expect(all.map((w) => w.owner_name)).toEqual(["alice-smith"]);
    expect(ready.endpoint.proxyCommand.at(-1)).toBe(`alice-smith/${all[0].name}`);
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    await driveUntil(lease.id, token, inState("released"));
  });

  it("refuses (400, before any lease exists) an owner who is no Coder username", async () => {
    token = await mintToken("bad.name");
    const res = await call("POST", "/v1/leases", { token, body: { provider: "coder", sshPublicKey: await sshPublicKey() } });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: "invalid_for_provider", message: expect.stringContaining("providerUsers.coder") });
  });

  it("passes the template's rich parameters through, and refuses undeclared or invalid ones before any lease exists", async () => {
    const lease = await createLease({ releaseAction: "destroy", parameters: { cpu: "4", repo: "https://example.com/r.git" } });
    await driveUntil(lease.id, token, inState("ready"));
    const state = await control("/state");
    expect(state.parameters[state.workspaces[0].id]).toEqual({ cpu: "4", repo: "https://example.com/r.git" });
    await call("POST", `/v1/leases/${lease.id}/release`, { token });
    await driveUntil(lease.id, token, inState("released"));

    for (const [parameters, message] of [
      [{ gpu: "1" }, /declares no parameter "gpu"/],
      [{ cpu: "3" }, /cpu must be one of 2, 4, 8/],
      [{ repo: "ftp://x" }, /repo does not match/],
    ] as const) {
      const res = await call("POST", "/v1/leases", { token, body: { provider: "coder", sshPublicKey: await sshPublicKey(), parameters } });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: "invalid_for_provider", message: expect.stringMatching(message) });
    }
    expect((await call("GET", "/v1/leases", { token })).json.leases.filter((l: any) => l.state !== "released")).toEqual([]);
    // A provider without templates refuses parameters outright.
    const lambda = await call("POST", "/v1/leases", { token, body: { provider: "lambda", sshPublicKey: await sshPublicKey(), parameters: { cpu: "4" } } });
    expect([lambda.status, lambda.json.error.code]).toEqual([400, "invalid_request"]);
  });

  it("doctor says whether the token may create for other users; catalog lists the template's parameters", async () => {
    expectEmpty = false;
    const report = await call("GET", "/v1/providers/coder/doctor", { token: ADMIN_TOKEN });
    expect(report.json.checks).toContainEqual(expect.objectContaining({ name: "create for users", status: "ok" }));
    expect(report.json.checks).toContainEqual(expect.objectContaining({ name: "linux agent", status: "ok" }));
    expect(report.json.ok).toBe(true);
    const settings = { deploymentId: vars.CRABBOX_DEPLOYMENT_ID!, url: BASE, organization: "default", template: "docker-dev", problems: [] };
    const member = new CoderAdapter({ ...settings, token: "coder-user-bob" });
    expect(await member.doctor()).toContainEqual(expect.objectContaining({ name: "create for users", status: "fail", detail: expect.stringMatching(/bob may create only its own/) }));
    const catalog = await call("GET", "/v1/providers/coder/catalog", { token });
    expect(catalog.json.entries).toEqual([expect.objectContaining({ type: "docker-dev", description: expect.stringContaining("--param cpu 2|4|8 (default 2), repo string") })]);
  });

  it("CODER_TEMPLATE_PRESET creates from that preset (request parameters still apply); a missing preset fails definitely", async () => {
    expectEmpty = false;
    const settings = { deploymentId: vars.CRABBOX_DEPLOYMENT_ID!, url: BASE, token: vars.CODER_SESSION_TOKEN!, organization: "default", template: "docker-dev", problems: [] };
    const spec = { leaseId: "presetlease00001", deploymentId: settings.deploymentId, owner, sshPublicKey: await sshPublicKey() };
    const large = new CoderAdapter({ ...settings, preset: "large" });
    await large.create({ ...spec, parameters: { repo: "git@example.com:r.git" } }, { handle: large.handle(spec) });
    const state = await control("/state");
    expect(state.parameters[state.workspaces[0].id]).toEqual({ cpu: "8", repo: "git@example.com:r.git" });
    expect(state.requests.find((r: any) => r.method === "POST" && r.path.endsWith("/workspaces")).body).toMatchObject({ template_version_preset_id: expect.any(String) });
    const missing = new CoderAdapter({ ...settings, preset: "huge" });
    await expect(missing.create({ ...spec, leaseId: "presetlease00002" }, { handle: missing.handle({ ...spec, leaseId: "presetlease00002" }) })).rejects.toMatchObject({ kind: "invalid" });
    expect(await missing.doctor()).toContainEqual(expect.objectContaining({ name: "preset", status: "fail", detail: expect.stringContaining("it has: large") }));
  });

  it("the sweep never lists other deployments' or unprefixed workspaces", async () => {
    expectEmpty = false;
    for (const name of ["cb-0000000-otherdeploy001", "my-own-workspace"]) {
      await fetch(`${BASE}/api/v2/organizations/9c4f6b1e-2f0a-4d7b-9f51-0c1e2d3a4b5c/members/${owner}/workspaces`, { method: "POST", headers: admin, body: JSON.stringify({ name, template_id: "c6d67e98-83ea-49f0-8812-e4abae2b68bc" }) });
    }
    const report = (await sweepOrphans(env, Date.now(), { trigger: "admin", providers: ["coder"] })).providers[0]!;
    expect(report).toMatchObject({ complete: true, ours: 0, reclaimed: 0 });
    await sweepOrphans(env, Date.now() + 2 * HOUR, { trigger: "admin", providers: ["coder"] });
    expect((await workspaces()).map((w) => w.name).sort()).toEqual(["cb-0000000-otherdeploy001", "my-own-workspace"]);
  });
});

describe("parameterProblems", () => {
  const declared = [
    { name: "cpu", options: [{ value: "2" }, { value: "4" }] },
    { name: "repo", validation_regex: "^https://" },
    { name: "odd", validation_regex: "(?<!x" }, // a pattern JavaScript cannot compile: left to Coder
  ];
  it("refuses undeclared names, values outside the options and values missing the pattern; nothing else", () => {
    expect(parameterProblems({ cpu: "4", repo: "https://x", odd: "anything" }, declared)).toEqual([]);
    expect(parameterProblems({ cpu: "3", repo: "ftp://x", gpu: "1" }, declared)).toEqual([
      "cpu must be one of 2, 4",
      "repo does not match the template's pattern ^https://",
      'the template declares no parameter "gpu" (it has: cpu, repo, odd)',
    ]);
  });
});
