// acquire end to end against the fake coordinator and a real SSH server: key files and modes, SSH
// before ack, --json output, and cleanup on Ctrl-C, failure and refusal.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Lease } from "../../../src/contract/lease";
import { type World, onlyJson, startWorld } from "./helpers/world";

let world: World;
beforeEach(async () => {
  world = await startWorld();
});
afterEach(async () => {
  await world.stop();
});

const leaseDirs = () => (existsSync(join(world.configDir, "leases")) ? readdirSync(join(world.configDir, "leases")) : []);
const mode = (path: string) => statSync(path).mode & 0o777;

describe("crabbox acquire", () => {
  it("creates the lease with a minted id and only the public key, connects over SSH, then acks", async () => {
    world.api.provisionMs = 300;
    const result = await world.run(["acquire", "--provider", "lambda", "--type", "gpu_1x_a10", "--ttl", "2h", "--idle", "30m", "--json"]);
    expect(result.stderr).toMatch(/provisioning/);
    expect(result.code).toBe(0);

    const lease = onlyJson(result.stdout) as Lease;
    expect(lease.state).toBe("active");
    expect(lease.id).toMatch(/^[a-z2-7]{16}$/);

    const [create] = world.api.requestsTo("POST", /^\/v1\/leases$/);
    const body = create?.body as Record<string, string>;
    expect(body).toMatchObject({ id: lease.id, provider: "lambda", type: "gpu_1x_a10", ttl: "2h", idleTimeout: "30m" });
    expect(body.sshPublicKey).toMatch(/^ssh-ed25519 [A-Za-z0-9+/]+=* crabbox-lease-/);
    expect(JSON.stringify(body)).not.toMatch(/PRIVATE KEY/);

    // SSH with the lease key ran `true` before the ack was sent.
    const [ack] = world.api.requestsTo("POST", /\/ack$/);
    expect(world.sshd.execs.map((exec) => exec.command)).toContain("true");
    expect(ack?.at).toBeGreaterThanOrEqual(world.sshd.execs[0]?.at ?? Infinity);

    const dir = join(world.configDir, "leases", lease.id);
    expect(mode(world.configDir)).toBe(0o700);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, "id_ed25519"))).toBe(0o600);
    expect(readFileSync(join(dir, "known_hosts"), "utf8")).toContain(world.sshd.hostPublicKey);
    expect((JSON.parse(readFileSync(join(dir, "lease.json"), "utf8")) as Lease).state).toBe("active");
    expect(readFileSync(join(dir, "id_ed25519.pub"), "utf8").trim()).toBe(body.sshPublicKey);
  });

  it("writes a key pair that ssh-keygen reads back to the same public key", async () => {
    const result = await world.run(["acquire", "--provider", "lambda", "--json"]);
    expect(result.code).toBe(0);
    const dir = join(world.configDir, "leases", (onlyJson(result.stdout) as Lease).id);
    const derived = execFileSync("ssh-keygen", ["-y", "-f", join(dir, "id_ed25519")], { encoding: "utf8" }).trim();
    const [algo, base64] = readFileSync(join(dir, "id_ed25519.pub"), "utf8").split(" ");
    expect(derived.split(" ").slice(0, 2)).toEqual([algo, base64]);
  });

  it("prints the endpoint and the follow-up commands, progress only on stderr", async () => {
    const result = await world.run(["acquire", "--provider", "lambda"]);
    expect(result.code).toBe(0);
    const slug = [...world.api.leases.values()][0]?.slug;
    expect(result.stdout).toContain(`ubuntu@127.0.0.1 port ${world.sshd.port}`);
    expect(result.stdout).toContain(`crabbox ssh ${slug}`);
    expect(result.stdout).toContain(`crabbox release ${slug}`);
    expect(result.stdout).not.toMatch(/Requesting|waiting/);
    expect(result.stderr).toMatch(/Requesting a lambda machine/);
    expect(result.stdout + result.stderr).not.toMatch(/\u001b\[/); // no colour without a TTY
  });

  it("releases the lease and removes its keys on Ctrl-C while waiting", async () => {
    world.api.provisionMs = 60_000;
    const { child, done } = world.start(["acquire", "--provider", "lambda"]);
    await waitFor(() => world.api.requestsTo("GET", /^\/v1\/leases\/[a-z0-9]+$/).length > 0);
    child.kill("SIGINT");
    const result = await done;
    expect(result.code).toBe(130);
    const [release] = world.api.requestsTo("POST", /\/release$/);
    expect(release?.body).toEqual({ action: "destroy" });
    expect([...world.api.leases.values()][0]?.state).toBe("released");
    expect(leaseDirs()).toEqual([]);
    expect(result.stderr).toMatch(/Released lease/);
    expect(result.stderr).toMatch(/crabbox: interrupted \(interrupted\)/);
  });

  it("exits 8 and removes the keys when provisioning fails", async () => {
    world.api.failProvisioning = true;
    const result = await world.run(["acquire", "--provider", "lambda", "--json"]);
    expect(result.code).toBe(8);
    expect((onlyJson(result.stdout) as { error: { code: string } }).error.code).toBe("lease_failed");
    expect(result.stderr).toMatch(/no capacity/);
    expect(leaseDirs()).toEqual([]);
  });

  it("exits 6 and removes the keys when the quota refuses the lease", async () => {
    world.api.fail("POST", /^\/v1\/leases$/, 429, "quota_exceeded");
    const result = await world.run(["acquire", "--provider", "lambda"]);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/\(quota_exceeded\)/);
    expect(leaseDirs()).toEqual([]);
  });

  it("exits 7 and releases the lease when the machine does not accept SSH", async () => {
    world.api.endpoint = { kind: "ssh", host: "127.0.0.1", port: world.sshd.port, user: "root" }; // wrong user
    const result = await world.run(["acquire", "--provider", "lambda", "--ssh-wait", "2s"]);
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(/\(ssh_failed\)/);
    expect(world.api.requestsTo("POST", /\/ack$/)).toEqual([]);
    expect([...world.api.leases.values()][0]?.state).toBe("released");
    expect(leaseDirs()).toEqual([]);
  });

  it("sends --param flags as the request's template parameters (values may hold = and spaces)", async () => {
    const result = await world.run(["acquire", "--provider", "lambda", "--param", "cpu=4", "--param", "repo=https://x/y?a=b c", "--json"]);
    expect(result.code).toBe(0);
    const creates = world.api.requestsTo("POST", /^\/v1\/leases$/);
    expect((creates.at(-1)?.body as { parameters: unknown }).parameters).toEqual({ cpu: "4", repo: "https://x/y?a=b c" });
  });

  it("retries the create with the same id after a lost answer, joining instead of duplicating", async () => {
    world.api.fail("POST", /^\/v1\/leases$/, 503, "internal_error");
    const result = await world.run(["acquire", "--provider", "lambda", "--json"]);
    expect(result.code).toBe(0);
    const creates = world.api.requestsTo("POST", /^\/v1\/leases$/);
    expect(creates).toHaveLength(2);
    expect((creates[0]?.body as { id: string }).id).toBe((creates[1]?.body as { id: string }).id);
    expect(world.api.leases.size).toBe(1);
  });

  it("a busy provider's 503 is retried after its Retry-After, not sooner", async () => {
    world.api.fail("POST", /^\/v1\/leases$/, 503, "provider_busy", undefined, { "retry-after": "2" });
    const result = await world.run(["acquire", "--provider", "lambda", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const [refused, accepted] = world.api.requestsTo("POST", /^\/v1\/leases$/);
    expect(accepted!.at - refused!.at).toBeGreaterThanOrEqual(2_000);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition never held");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
