// The live smoke, pointed at the Lambda emulator (--allow-loopback) instead of a real account:
// it refuses without both opt-ins, passes a clean run, calls a capacity shortage the provider's
// block and a bad key the environment's, and fails (exit 1) when a resource of its run is left.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLambdaEmulator, type LambdaEmulator } from "../emulators/lambda/index.ts";
import { assertBuilt } from "../node/cli/helpers/run-cli";

const run = promisify(execFile);
const KEY = "secret_smoke-test-lambda-key";

async function smoke(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(process.execPath, ["scripts/smoke/live.mjs", "--provider", "lambda", ...args], { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env }, timeout: 240_000 });
    return { code: 0, report: JSON.parse(stdout), stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, report: JSON.parse(e.stdout), stderr: e.stderr };
  }
}

describe("npm run smoke:live against the Lambda emulator", () => {
  let lambda: LambdaEmulator;
  let live: Record<string, string>;

  beforeAll(async () => {
    assertBuilt();
    lambda = await startLambdaEmulator({ apiKey: KEY, bootMs: 200, terminateMs: 100, launchIntervalMs: 0 });
    live = { CRABBOX_LIVE: "1", LAMBDA_API_KEY: KEY, LAMBDA_BASE_URL: lambda.apiBase, LAMBDA_SSH_PORT: String(lambda.sshPort) };
  });
  afterAll(async () => {
    await lambda?.close();
  });

  it("does nothing without CRABBOX_LIVE=1 and credentials: environment_blocked, exit 0", async () => {
    const result = await smoke([], {});
    expect(result.code).toBe(0);
    expect(result.report).toMatchObject({ classification: "environment_blocked", code: "missing_configuration" });
    expect(result.stderr).toContain("missing CRABBOX_LIVE=1, LAMBDA_API_KEY");
    // A real key but a loopback URL, without --allow-loopback: refused too.
    expect((await smoke([], live)).report).toMatchObject({ classification: "environment_blocked", code: "loopback_url" });
  });

  it("passes: doctor, the cheapest type under the ceiling, SSH uname -a, release, nothing left; every line redacted", async () => {
    const result = await smoke(["--allow-loopback"], live);
    expect(result.report, result.stderr).toMatchObject({ classification: "passed", type: "cpu_4x_general", residue: 0 });
    expect(result.report.steps.map((s: { name: string }) => s.name)).toEqual(["doctor", "choose type", "acquire", "ssh uname -a", "release", "residue"]);
    expect(result.report.steps.find((s: { name: string }) => s.name === "ssh uname -a").detail).toMatch(/^Linux /);
    expect(JSON.stringify(result.report) + result.stderr).not.toContain(KEY);
    const state = (await (await fetch(`${lambda.url}/_emulator/state`)).json()) as { instances: { status: string }[] };
    expect(state.instances.filter((i) => i.status !== "terminated")).toEqual([]);
  }, 240_000);

  it("no capacity anywhere: provider_blocked with the code, exit 2", async () => {
    lambda.configure({ capacity: { "us-east-1": { gpu_1x_a10: 0, gpu_1x_a100_sxm4: 0, gpu_8x_a100: 0, cpu_4x_general: 0 }, "us-west-1": { gpu_1x_a10: 0 }, "us-south-2": { gpu_1x_h100_sxm5: 0, gpu_8x_h100_sxm5: 0 } } });
    const result = await smoke(["--allow-loopback"], live);
    expect([result.code, result.report.classification, result.report.code]).toEqual([2, "provider_blocked", "capacity"]);
    await lambda.reset();
  }, 240_000);

  it("a bad key: environment_blocked (auth), and the key never printed", async () => {
    const result = await smoke(["--allow-loopback"], { ...live, LAMBDA_API_KEY: "secret_wrong-key-for-smoke-00" });
    expect([result.code, result.report.classification, result.report.code]).toEqual([0, "environment_blocked", "auth"]);
    expect(JSON.stringify(result.report) + result.stderr).not.toContain("secret_wrong-key-for-smoke-00");
  }, 240_000);

  it("a resource of the run left in the account: failed (residue), exit 1", async () => {
    // Plays a teardown that forgot one: a machine marked as this run's deployment, and its key object.
    const auth = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
    const handle = "crabbox-smoke-leaktest-aaaaaaaaaaaa0007";
    await fetch(`${lambda.apiBase}/ssh-keys`, { method: "POST", headers: auth, body: JSON.stringify({ name: handle, public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl leak" }) });
    await fetch(`${lambda.apiBase}/instance-operations/launch`, { method: "POST", headers: auth, body: JSON.stringify({ region_name: "us-east-1", instance_type_name: "gpu_1x_a10", ssh_key_names: [handle], name: handle }) });
    const result = await smoke(["--allow-loopback", "--deployment-id", "smoke-leaktest"], live);
    expect([result.code, result.report.classification, result.report.code, result.report.residue]).toEqual([1, "failed", "residue", 2]);
  }, 240_000);

  it("a key object of the run left without its machine: failed (residue), exit 1", async () => {
    const auth = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
    const handle = "crabbox-smoke-keyleak-aaaaaaaaaaaa0008";
    await fetch(`${lambda.apiBase}/ssh-keys`, { method: "POST", headers: auth, body: JSON.stringify({ name: handle, public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl leak" }) });
    const result = await smoke(["--allow-loopback", "--deployment-id", "smoke-keyleak"], live);
    expect([result.code, result.report.classification, result.report.code, result.report.residue]).toEqual([1, "failed", "residue", 1]);
    expect(result.stderr).toContain(`ssh_key`);
  }, 240_000);
});
