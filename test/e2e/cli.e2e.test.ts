// End to end: the BUILT crabbox CLI against the local stack (coordinator under wrangler dev, the
// Lambda emulator with real SSH machines): acquire, ssh, ssh-config, release, and nothing left behind.
// Then a client killed before it acknowledges: the lease is released by its ack deadline.
import { execFile } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Lease } from "../../src/contract/lease";
import { startStack } from "../../scripts/stack.mjs";
import { assertBuilt, closedPortUrl, runCli, startCli, tempDir, waitForStderr } from "../node/cli/helpers/run-cli";

const execFileAsync = promisify(execFile);
/** Short, so the killed-client scenario ends quickly; long enough for acquire to ack in time. */
const ACK_DEADLINE = "15s";
const WAIT_RELEASED_MS = 90_000;

type Stack = Awaited<ReturnType<typeof startStack>>;
interface EmulatorState {
  instances: { id: string; status: string }[];
  sshKeys: { id: string; name: string }[];
}

describe("crabbox CLI against the local stack", () => {
  let stack: Stack;
  let configDir: string;
  let persistTo: string;
  const output: string[] = [];
  const crabbox = (args: string[]) =>
    runCli(args, { configDir, env: { CRABBOX_URL: stack.url, CRABBOX_TOKEN: stack.token }, timeoutMs: 180_000 });
  const emulatorState = async () => (await (await fetch(`${stack.emulator.lambda.url}/_emulator/state`)).json()) as EmulatorState;

  beforeAll(async () => {
    assertBuilt();
    configDir = tempDir("crabbox-e2e-");
    persistTo = tempDir("crabbox-e2e-state-");
    const port = Number(new URL(await closedPortUrl()).port);
    stack = await startStack({
      port,
      persistTo,
      bootMs: 500,
      launchIntervalMs: 0,
      ackDeadline: ACK_DEADLINE,
      onOutput: (source: string, line: string) => output.push(`[${source}] ${line}`),
      log: (message: string) => output.push(message),
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(configDir, { recursive: true, force: true });
    rmSync(persistTo, { recursive: true, force: true });
  });

  it("acquires a Lambda machine, runs commands over SSH, and releases it without leftovers", async () => {
    const acquired = await crabbox(["acquire", "--provider", "lambda", "--ttl", "1h", "--json"]);
    if (acquired.code !== 0) throw new Error(`acquire failed (${acquired.code}): ${acquired.stderr}\n${output.slice(-40).join("\n")}`);
    const lease = JSON.parse(acquired.stdout) as Lease;
    expect(lease.state).toBe("active");
    expect(lease.endpoint).toMatchObject({ kind: "ssh", user: "ubuntu" });

    const echo = await crabbox(["ssh", lease.slug, "--", "echo", "hello"]);
    expect(echo).toMatchObject({ code: 0, stdout: "hello\n" });
    expect((await crabbox(["ssh", lease.slug, "--", "exit 3"])).code).toBe(3);

    const sshConfig = await crabbox(["ssh-config", "--json"]);
    const { path } = JSON.parse(sshConfig.stdout) as { path: string };
    const plain = await execFileAsync("ssh", ["-F", path, "-o", "BatchMode=yes", lease.slug, "echo via-config"], { encoding: "utf8" });
    expect(plain.stdout).toBe("via-config\n");

    const events = JSON.parse((await crabbox(["events", lease.slug, "--json"])).stdout) as { events: { state: string }[] };
    expect(events.events.map((event) => event.state)).toContain("active");

    const released = await crabbox(["release", lease.slug, "--json"]);
    expect(released.code).toBe(0);
    expect((JSON.parse(released.stdout) as Lease).state).toBe("released");
    expect(existsSync(join(configDir, "leases", lease.id))).toBe(false);

    const again = await crabbox(["release", lease.slug]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already ended/);

    const state = await emulatorState();
    expect(state.instances.filter((instance) => instance.status !== "terminated")).toEqual([]);
    expect(state.sshKeys).toEqual([]);
  });

  it("a client killed before it acknowledges leaves the lease to its ack deadline", async () => {
    const control = (path: string, body: unknown) =>
      fetch(`${stack.emulator.lambda.url}/_emulator${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const api = async (path: string) => (await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${stack.token}` } })).json() as Promise<any>;
    // Keep the machine booting so the CLI is surely still waiting when it dies.
    await control("/config", { bootMs: 600_000 });
    const { child, done } = startCli(["acquire", "--provider", "lambda", "--json"], { configDir, env: { CRABBOX_URL: stack.url, CRABBOX_TOKEN: stack.token } });
    let lease: Lease | undefined;
    for (let i = 0; i < 100 && !lease; i++) {
      lease = ((await api("/v1/leases?state=provisioning")).leases as Lease[])[0];
      if (!lease) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(lease, "the CLI created a lease").toBeDefined();
    child.kill("SIGKILL");
    await done;
    await control("/config", { bootMs: 500 });
    // Launches are paced to Lambda's one per 12 s account-wide: the launch may still be queued.
    let instance: { id: string } | undefined;
    for (let i = 0; i < 150 && !instance; i++) {
      [instance] = (await emulatorState()).instances.filter((x) => x.status !== "terminated");
      if (!instance) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(instance, "the coordinator launched the machine").toBeDefined();
    await control(`/instances/${instance!.id}/status`, { status: "active" });

    let final: Lease = await api(`/v1/leases/${lease!.id}`);
    const giveUpAt = Date.now() + WAIT_RELEASED_MS;
    while (final.state !== "released" && Date.now() < giveUpAt) {
      final = await api(`/v1/leases/${lease!.id}?wait=released&timeout=20s`);
    }
    expect(final.state).toBe("released");
    expect(final.endReason).toBe("ack_timeout");
    expect(final.acknowledgedAt).toBeUndefined();
    const state = await emulatorState();
    expect(state.instances.filter((i) => i.status !== "terminated")).toEqual([]);
    expect(state.sshKeys).toEqual([]);
  }, 150_000);

  it("acquires a Vast.ai machine (logged in as root), and releases it with nothing of ours left", async () => {
    const acquired = await crabbox(["acquire", "--provider", "vast", "--ttl", "1h", "--json"]);
    if (acquired.code !== 0) throw new Error(`acquire failed (${acquired.code}): ${acquired.stderr}\n${output.slice(-40).join("\n")}`);
    const lease = JSON.parse(acquired.stdout) as Lease;
    expect(lease).toMatchObject({ state: "active", type: "1x_RTX_4090", endpoint: { kind: "ssh", user: "root" } });
    expect(await crabbox(["ssh", lease.slug, "--", "echo hello; echo $USER"])).toMatchObject({ code: 0, stdout: "hello\nroot\n" });
    const released = await crabbox(["release", lease.slug, "--json"]);
    expect((JSON.parse(released.stdout) as Lease).state).toBe("released");
    const vast = (await (await fetch(`${stack.emulator.vast.url}/_emulator/state`)).json()) as { instances: unknown[] };
    expect(vast.instances).toEqual([]);
  });

  it("acquires fal machines under both names (logged in as ubuntu), and deletes them", async () => {
    for (const provider of ["fal", "fal-ai"]) {
      const acquired = await crabbox(["acquire", "--provider", provider, "--json"]);
      if (acquired.code !== 0) throw new Error(`acquire failed (${acquired.code}): ${acquired.stderr}\n${output.slice(-40).join("\n")}`);
      const lease = JSON.parse(acquired.stdout) as Lease;
      expect(lease).toMatchObject({ state: "active", provider: "fal", endpoint: { kind: "ssh", user: "ubuntu" } });
      expect(await crabbox(["ssh", lease.slug, "--", "echo $USER"])).toMatchObject({ code: 0, stdout: "ubuntu\n" });
      expect((JSON.parse((await crabbox(["release", lease.slug, "--json"])).stdout) as Lease).state).toBe("released");
    }
    const fal = (await (await fetch(`${stack.emulator.fal.url}/_emulator/state`)).json()) as { instances: unknown[] };
    expect(fal.instances).toEqual([]);
  });

  it("acquires a Coder workspace and logs in through the stand-in `coder` ProxyCommand; stop, resume, destroy", async () => {
    const coderEnv = {
      CRABBOX_URL: stack.url,
      CRABBOX_TOKEN: stack.token,
      PATH: `${join(process.cwd(), "test/emulators/coder/bin")}:${process.env.PATH}`,
      CODER_URL: stack.emulator.coder.url,
      CODER_SESSION_TOKEN: "coder-user-dev", // the lease owner's own Coder login (the stack's dev token is owner "dev")
    };
    const coder = (args: string[]) => runCli(args, { configDir, env: coderEnv, timeoutMs: 180_000 });
    const acquired = await coder(["acquire", "--provider", "coder", "--json"]);
    if (acquired.code !== 0) throw new Error(`acquire failed (${acquired.code}): ${acquired.stderr}\n${output.slice(-40).join("\n")}`);
    const lease = JSON.parse(acquired.stdout) as Lease;
    expect(lease).toMatchObject({ state: "active", releaseAction: "stop", endpoint: { kind: "proxy", proxyCommand: ["coder", "ssh", "--stdio", expect.stringMatching(/^dev\/cb-/)] } });
    expect(await coder(["ssh", lease.slug, "--", "echo", "hello"])).toMatchObject({ code: 0, stdout: "hello\n" });
    // A stranger's Coder login cannot reach it.
    expect((await runCli(["ssh", lease.slug, "--", "true"], { configDir, env: { ...coderEnv, CODER_SESSION_TOKEN: "coder-user-mallory" } })).code).toBe(255);
    expect((JSON.parse((await coder(["release", lease.slug, "--json"])).stdout) as Lease).state).toBe("parked");
    const resumed = await coder(["resume", lease.slug]);
    if (resumed.code !== 0) throw new Error(`resume failed (${resumed.code}): ${resumed.stderr}\n${output.slice(-40).join("\n")}`);
    expect(await coder(["ssh", lease.slug, "--", "echo", "back"])).toMatchObject({ code: 0, stdout: "back\n" });
    expect((JSON.parse((await coder(["release", lease.slug, "--action", "destroy", "--json"])).stdout) as Lease).state).toBe("released");
    const state = (await (await fetch(`${stack.emulator.coder.url}/_emulator/state`)).json()) as { workspaces: unknown[] };
    expect(state.workspaces).toEqual([]);
  });

  it("acquires a Sealos DevBox, logs in as devbox through the emulated SSHGate; pause, resume, destroy, nothing left", async () => {
    const acquired = await crabbox(["acquire", "--provider", "sealos", "--json"]);
    if (acquired.code !== 0) throw new Error(`acquire failed (${acquired.code}): ${acquired.stderr}\n${output.slice(-40).join("\n")}`);
    const lease = JSON.parse(acquired.stdout) as Lease;
    const gateway = stack.emulator.sealos;
    expect(lease).toMatchObject({ state: "active", releaseAction: "stop", endpoint: { kind: "ssh", host: gateway.sshHost, port: gateway.sshPort, user: "devbox" } });
    expect(await crabbox(["ssh", lease.slug, "--", "echo hello; echo $USER"])).toMatchObject({ code: 0, stdout: "hello\ndevbox\n" });
    expect((JSON.parse((await crabbox(["release", lease.slug, "--json"])).stdout) as Lease).state).toBe("parked");
    expect((await crabbox(["resume", lease.slug])).code).toBe(0);
    expect(await crabbox(["ssh", lease.slug, "--", "echo back"])).toMatchObject({ code: 0, stdout: "back\n" });
    expect((JSON.parse((await crabbox(["release", lease.slug, "--action", "destroy", "--json"])).stdout) as Lease).state).toBe("released");
    const state = (await (await fetch(`${gateway.url}/_emulator/state`)).json()) as { devboxes: unknown[]; secrets: unknown[]; gatewaySessions: number };
    expect([state.devboxes, state.secrets]).toEqual([[], []]);
    expect(state.gatewaySessions).toBeGreaterThanOrEqual(2);
  });

  it("acquire --wait-for-capacity waits in line and gets the machine once capacity appears", async () => {
    const configure = (capacity: number) =>
      fetch(`${stack.emulator.lambda.url}/_emulator/config`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ capacity: { "us-south-2": { gpu_1x_h100_sxm5: capacity } } }) });
    expect((await configure(0)).status).toBe(200);
    const { child, done } = startCli(["acquire", "--provider", "lambda", "--type", "gpu_1x_h100_sxm5", "--region", "us-south-2", "--wait-for-capacity", "5m", "--json"], {
      configDir,
      env: { CRABBOX_URL: stack.url, CRABBOX_TOKEN: stack.token },
    });
    // Capacity appears only once the waiting client has said so: under load the CLI can be slower
    // than this test, and it would then never see its lease in line.
    await waitForStderr(child, /queued: 1st in line for gpu_1x_h100_sxm5, waited \d+s/, 60_000);
    const waiting = (JSON.parse((await crabbox(["list", "--json"])).stdout) as { leases: Lease[] }).leases.find((l) => l.state === "queued");
    const queued = waiting && (JSON.parse((await crabbox(["status", waiting.slug, "--json"])).stdout) as Lease);
    expect(queued).toMatchObject({ state: "queued", queue: { position: 1 } });
    expect((await configure(1)).status).toBe(200);
    const result = await done;
    if (result.code !== 0) throw new Error(`acquire failed (${result.code}): ${result.stderr}\n${output.slice(-40).join("\n")}`);
    const lease = JSON.parse(result.stdout) as Lease;
    expect(lease).toMatchObject({ id: queued!.id, state: "active", type: "gpu_1x_h100_sxm5" });
    expect((JSON.parse((await crabbox(["release", lease.slug, "--json"])).stdout) as Lease).state).toBe("released");
    await configure(2);
  }, 120_000);

  it("admin commands work with the stack's admin token", async () => {
    const admin = (args: string[]) => runCli(args, { configDir, env: { CRABBOX_URL: stack.url, CRABBOX_TOKEN: stack.adminToken } });
    const tokens = await admin(["admin", "token", "list", "--json"]);
    expect(tokens.code).toBe(0);
    const sweep = await admin(["admin", "sweep", "--dry-run", "--json"]);
    expect(sweep.code).toBe(0);
    expect(JSON.parse(sweep.stdout)).toMatchObject({ dryRun: true });
  });

  it("a budget set with the admin CLI refuses a lease that would cross it (exit 6), and usage shows the month", async () => {
    const admin = (args: string[]) => runCli(args, { configDir, env: { CRABBOX_URL: stack.url, CRABBOX_TOKEN: stack.adminToken } });
    expect((await admin(["admin", "budget", "set", "dev", "--monthly", "0.05"])).stdout).toBe("dev: $0.05 a month, no rate limit\n");
    // Every Lambda type lists above 5 cents an hour: the reservation cannot fit.
    const refused = await crabbox(["acquire", "--provider", "lambda", "--ttl", "1h"]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toMatch(/over budget: this lease reserves \$\d+\.\d\d/);
    const usage = JSON.parse((await crabbox(["usage", "--json"])).stdout);
    expect(usage).toMatchObject({ owner: "dev", monthlyLimitCents: 5, maxRateCentsPerHour: null });
    const everyone = JSON.parse((await admin(["admin", "usage", "--json"])).stdout);
    expect(everyone.owners).toContainEqual(expect.objectContaining({ owner: "dev", monthlyLimitCents: 5 }));
    expect((await admin(["admin", "budget", "set", "dev", "--monthly", "none"])).code).toBe(0);
    expect((await crabbox(["usage", "--month", "2026-13"])).code).toBe(2);
  });
});
