// `crabbox ssh` and `crabbox ssh-config` with the real OpenSSH client against a real SSH server:
// exit status passed through, host keys pinned, keep-alive touches, proxy (Coder-style) endpoints.
import { execFile, execFileSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Lease } from "../../../src/contract/lease";
import { CLI_NODE, ROOT } from "./helpers/run-cli";
import { type World, onlyJson, startWorld } from "./helpers/world";

const execFileAsync = promisify(execFile);
let world: World;
beforeEach(async () => {
  world = await startWorld();
});
afterEach(async () => {
  await world.stop();
});

async function acquire(...extra: string[]): Promise<Lease> {
  const result = await world.run(["acquire", "--provider", "lambda", "--json", ...extra]);
  expect(result.stderr).not.toMatch(/crabbox: .*\(/);
  expect(result.code).toBe(0);
  return onlyJson(result.stdout) as Lease;
}

describe("crabbox ssh", () => {
  it("runs one command and exits with the remote command's status", async () => {
    const lease = await acquire();
    const echo = await world.run(["ssh", lease.slug, "--", "echo", "hello from the lease"]);
    expect(echo).toMatchObject({ code: 0, stdout: "hello from the lease\n" });
    const failing = await world.run(["ssh", lease.id, "--", "exit 42"]);
    expect(failing.code).toBe(42);
  });

  it("pins the host key recorded at acquire (StrictHostKeyChecking=yes)", async () => {
    const lease = await acquire();
    const knownHosts = join(world.configDir, "leases", lease.id, "known_hosts");
    const other = execFileSync("ssh-keygen", ["-t", "ed25519", "-N", "", "-q", "-f", join(world.configDir, "other"), "-C", ""], { encoding: "utf8" });
    expect(other).toBe("");
    const otherKey = readFileSync(join(world.configDir, "other.pub"), "utf8").trim();
    writeFileSync(knownHosts, `[127.0.0.1]:${world.sshd.port} ${otherKey}\n`);
    const result = await world.run(["ssh", lease.slug, "--", "true"]);
    expect(result.code).toBe(255);
    expect(result.stderr).toMatch(/HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });

  it("touches the lease while the session is open", async () => {
    const lease = await acquire("--idle", "3s"); // the fake answers idleTimeoutSeconds 3: a touch a second
    const result = await world.run(["ssh", lease.slug, "--", "sleep 2.5"]);
    expect(result.code).toBe(0);
    expect(world.api.requestsTo("POST", /\/touch$/).length).toBeGreaterThanOrEqual(2);
  });

  it("refuses a parked lease (exit 8) and a lease whose key is elsewhere (exit 2)", async () => {
    const lease = await acquire();
    const stored = world.api.leases.get(lease.id);
    if (stored) stored.state = "parked";
    const parked = await world.run(["ssh", lease.slug, "--", "true"]);
    expect(parked.code).toBe(8);
    expect(parked.stderr).toContain(`crabbox resume ${lease.slug}`);

    world.api.leases.set("elsewhere0000000", { ...lease, id: "elsewhere0000000", slug: "calm-heron-1", state: "active" });
    const noKey = await world.run(["ssh", "calm-heron-1"]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/\(no_local_key\)/);
  });

  it("reaches a proxy endpoint through its ProxyCommand", async () => {
    world.api.endpoint = {
      kind: "proxy",
      host: "coder.alice.workspace",
      user: "ubuntu",
      proxyCommand: [CLI_NODE, join(ROOT, "test/node/cli/helpers/tcp-pipe.mjs"), "127.0.0.1", String(world.sshd.port)],
    };
    const lease = await acquire();
    // Recorded under the proxy host's name (hashed or not, per the system's HashKnownHosts).
    const knownHosts = join(world.configDir, "leases", lease.id, "known_hosts");
    expect(execFileSync("ssh-keygen", ["-F", "coder.alice.workspace", "-f", knownHosts], { encoding: "utf8" })).toContain("ssh-ed25519");
    const result = await world.run(["ssh", lease.slug, "--", "echo via-proxy"]);
    expect(result).toMatchObject({ code: 0, stdout: "via-proxy\n" });
  });
});

describe("crabbox ssh-config", () => {
  it("writes a 0600 SSH config that plain `ssh <slug>` uses", async () => {
    const lease = await acquire();
    const result = await world.run(["ssh-config"]);
    expect(result.code).toBe(0);
    const path = join(world.configDir, "ssh_config");
    expect(result.stdout).toContain(`Include ${path}`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const config = readFileSync(path, "utf8");
    expect(config).toContain(`Host ${lease.slug}\n  HostName 127.0.0.1\n  User ubuntu\n  Port ${world.sshd.port}`);
    expect(config).toContain("StrictHostKeyChecking yes");

    // Asynchronously: the SSH server runs in this process and must keep answering.
    const ssh = await execFileAsync("ssh", ["-F", path, "-o", "BatchMode=yes", lease.slug, "echo plain-ssh"], { encoding: "utf8" });
    expect(ssh.stderr).toBe("");
    expect(ssh.stdout).toBe("plain-ssh\n");
  });

  it("--json lists the hosts written", async () => {
    const lease = await acquire();
    const result = await world.run(["ssh-config", "--json"]);
    expect(onlyJson(result.stdout)).toMatchObject({ hosts: [{ slug: lease.slug, id: lease.id, host: "127.0.0.1" }] });
  });
});
