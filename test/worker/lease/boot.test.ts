// Boot scripts: user data reaches each provider's boot hook exactly once and nowhere else (only
// its hash is kept), what a provider cannot run is refused before any lease exists, and the
// tailnet join carries the slug as hostname and the operator's key only in the provider request.
import { abortAllDurableObjects, env, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { composeBootScript } from "../../../src/boot/compose";
import { ADMIN_TOKEN, call, leaseStub, mintToken, sshPublicKey, useFakeClock } from "../../support/api";
import { driveUntil, inState } from "../../support/drive";

const vars = env as unknown as Record<string, string>;
const LAMBDA = vars.LAMBDA_BASE_URL!.replace(/\/api\/v1\/?$/, "");
const VAST = vars.VAST_BASE_URL!;
const AUTHKEY = vars.TAILSCALE_AUTHKEY!;
const SCRIPT = "#!/bin/sh\necho booted-by-crabbox > booted\n# a secret-looking line: s3cr3t-boot-token\n";

async function control(base: string, path: string, body?: unknown): Promise<any> {
  const init = body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } };
  return (await fetch(`${base}/_emulator${path}`, init)).json();
}

let token: string;
let n = 0;
beforeEach(async () => {
  await control(LAMBDA, "/reset", {});
  await control(LAMBDA, "/config", { bootMs: 0, terminateMs: 0, launchIntervalMs: 0 });
  await control(VAST, "/reset", {});
  useFakeClock();
  token = await mintToken(`boot-user${++n}`);
});
afterEach(() => vi.useRealTimers());

async function create(body: Record<string, unknown>) {
  return call("POST", "/v1/leases", { token, body: { sshPublicKey: await sshPublicKey(), ...body } });
}

/** Everything a lease left in storage, the index and its answers. */
async function everythingStored(id: string): Promise<string> {
  const stored = await runInDurableObject(leaseStub(id), (_i, state) =>
    JSON.stringify([state.storage.sql.exec("SELECT * FROM lease").toArray(), state.storage.sql.exec("SELECT * FROM events").toArray()]),
  );
  const indexed = JSON.stringify((await env.DB.prepare("SELECT * FROM leases").all()).results);
  const answers = [(await call("GET", `/v1/leases/${id}`, { token })).text, (await call("GET", `/v1/leases/${id}/events`, { token })).text, (await call("GET", "/v1/admin/leases", { token: ADMIN_TOKEN })).text];
  return [stored, indexed, ...answers].join("\n");
}

describe("user data", () => {
  it("reaches Lambda as user_data, the machine runs it, and only its hash is kept", async () => {
    const res = await create({ provider: "lambda", userData: SCRIPT });
    expect(res.status).toBe(201);
    expect(res.json.userData).toEqual({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: SCRIPT.length });
    await driveUntil(res.json.id, token, inState("ready"));
    const state = await control(LAMBDA, "/state");
    expect(state.machines[0].userData).toBe(SCRIPT);
    const launch = state.requests.find((r: any) => r.path.endsWith("/launch"));
    expect(launch.body.user_data).toBe(SCRIPT);
    expect(await everythingStored(res.json.id)).not.toContain("s3cr3t-boot-token");
    await call("POST", `/v1/leases/${res.json.id}/release`, { token });
    await driveUntil(res.json.id, token, inState("released"));
  });

  it("reaches Vast as onstart", async () => {
    const res = await create({ provider: "vast", userData: SCRIPT });
    expect(res.status).toBe(201);
    await driveUntil(res.json.id, token, inState("ready"));
    const [instance] = (await control(VAST, "/state")).instances;
    expect(instance.onstart).toBe(SCRIPT);
    expect(await everythingStored(res.json.id)).not.toContain("s3cr3t-boot-token");
    await call("POST", `/v1/leases/${res.json.id}/release`, { token });
    await driveUntil(res.json.id, token, inState("released"));
  });

  it("refuses, before any lease exists: too long for the hook, cloud-init where only shell runs, no hook at all", async () => {
    const tooLong = await create({ provider: "vast", userData: `#!/bin/sh\n${"echo x\n".repeat(700)}` });
    expect([tooLong.status, tooLong.json.error.code]).toEqual([400, "invalid_for_provider"]);
    expect(tooLong.json.error.message).toMatch(/at most 4048 bytes/);
    const cloudInit = await create({ provider: "vast", userData: "#cloud-config\npackages: [htop]\n" });
    expect([cloudInit.status, cloudInit.json.error.code]).toEqual([400, "invalid_for_provider"]);
    const noHook = await create({ provider: "fal", userData: SCRIPT });
    expect(noHook.json.error.message).toMatch(/no boot hook/);
    const noTailnet = await create({ provider: "fal", tailscale: true });
    expect(noTailnet.status).toBe(400);
    expect((await call("GET", "/v1/leases", { token })).json.leases).toEqual([]);
  });

  it("a lease whose user data was lost with a restart fails clearly instead of booting without it", async () => {
    const res = await create({ provider: "lambda", userData: SCRIPT, id: "bootlostuser0001" });
    await abortAllDurableObjects(); // the object's memory, and the user data with it, is gone
    const final = await driveUntil(res.json.id, token, inState("failed", "released"));
    expect(final.state).toBe("failed");
    expect(final.failure.message).toMatch(/user data is gone/);
    expect((await control(LAMBDA, "/state")).instances).toEqual([]);
  });
});

describe("tailscale", () => {
  it("joins with the slug as hostname; the key is only in the provider request", async () => {
    const res = await create({ provider: "lambda", tailscale: true, userData: SCRIPT });
    expect(res.status).toBe(201);
    const ready = await driveUntil(res.json.id, token, inState("ready"));
    expect(ready.endpoint.tailnetHost).toBe(ready.slug);
    const launch = (await control(LAMBDA, "/state")).requests.find((r: any) => r.path.endsWith("/launch"));
    expect(launch.body.user_data).toContain(`--authkey='${AUTHKEY}' --hostname='${ready.slug}'`);
    expect(launch.body.user_data).toContain("--advertise-tags='tag:crabbox'");
    expect(launch.body.user_data).toContain("booted-by-crabbox"); // the user's script runs after the join
    expect(await everythingStored(res.json.id)).not.toContain(AUTHKEY);
    await call("POST", `/v1/leases/${res.json.id}/release`, { token });
    await driveUntil(res.json.id, token, inState("released"));
  });

  it("composes a cloud-config with the join as a cloud-init multi-part", () => {
    const script = composeBootScript({ userData: "#cloud-config\npackages: [htop]\n", tailscale: { authKey: "k", hostname: "brave-otter-0001" }, cloudInit: true })!;
    expect(script).toMatch(/^Content-Type: multipart\/mixed; boundary="/);
    expect(script).toContain("Content-Type: text/x-shellscript");
    expect(script).toContain("Content-Type: text/cloud-config");
    expect(script).toContain("--hostname='brave-otter-0001'");
  });
});
