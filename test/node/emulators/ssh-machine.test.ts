// The emulated machine is a real SSH server: the stock OpenSSH client logs in with the
// authorized key as the one allowed user, commands' exit codes and streams pass through, and
// nothing else gets in.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSshMachine, type SshMachine } from "../../emulators/ssh-machine.ts";
import { isListening, makeKeyPair, scratchDir, ssh, type KeyPair, type SshTarget } from "./ssh-client.ts";

// Outside the Lambda emulator's 127.10/16, so a parallel test file can never take this address.
const HOST = "127.77.0.5";

describe("startSshMachine", () => {
  let dir: string;
  let key: KeyPair;
  let stranger: KeyPair;
  let machine: SshMachine;
  let target: SshTarget;

  beforeAll(async () => {
    dir = await scratchDir();
    key = await makeKeyPair(dir, "lease");
    stranger = await makeKeyPair(dir, "stranger");
    machine = await startSshMachine({ host: HOST, port: 0, user: "ubuntu", authorizedKeys: [key.publicKey] });
    target = { host: HOST, port: machine.port, user: "ubuntu", key, knownHosts: join(dir, "known_hosts") };
  });
  afterAll(async () => {
    await machine?.close();
  });

  it("runs a command for the authorized key and user", async () => {
    const result = await ssh(target, { command: "echo hello" });
    expect(result).toMatchObject({ code: 0, stdout: "hello\n" });
  });

  it("records the host key it presents", async () => {
    await ssh(target, { command: "true" });
    const knownHosts = await readFile(target.knownHosts, "utf8");
    expect(knownHosts).toContain(`[${HOST}]:${machine.port} ${machine.hostPublicKey}`);
  });

  it("passes exit codes, stderr and stdin through", async () => {
    expect((await ssh(target, { command: "exit 3" })).code).toBe(3);
    const result = await ssh(target, { command: "echo oops >&2; cat; exit 42", input: "from stdin\n" });
    expect(result).toMatchObject({ code: 42, stdout: "from stdin\n", stderr: "oops\n" });
  });

  it("runs as the given user in a private home directory", async () => {
    const result = await ssh(target, { command: 'echo "$USER $HOME"; pwd' });
    const [who, pwd] = result.stdout.trim().split("\n");
    expect(who).toMatch(/^ubuntu \/.+crabbox-machine-/);
    expect(pwd).toBe(who!.split(" ")[1]);
  });

  it("does not leak the emulator's environment into commands", async () => {
    process.env.CRABBOX_TEST_SECRET = "leaked";
    const result = await ssh(target, { command: "echo ${CRABBOX_TEST_SECRET:-absent}" });
    delete process.env.CRABBOX_TEST_SECRET;
    expect(result.stdout).toBe("absent\n");
  });

  it("serves an interactive shell without a pty", async () => {
    const result = await ssh(target, { input: "echo in-shell\nexit 7\n" });
    expect(result.stdout).toContain("in-shell");
    expect(result.code).toBe(7);
  });

  it("serves an interactive shell on a real pty", async () => {
    const result = await ssh(target, { input: "tty; exit 5\n", tty: true });
    expect(result.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(result.code).toBe(5);
  });

  it("refuses a key that is not authorized", async () => {
    const result = await ssh({ ...target, key: stranger }, { command: "echo hello" });
    expect(result.code).toBe(255);
    expect(result.stderr).toContain("Permission denied (publickey)");
    expect(result.stdout).toBe("");
  });

  it("refuses any other user, even with the authorized key", async () => {
    for (const user of ["root", "admin"]) {
      const result = await ssh({ ...target, user }, { command: "echo hello" });
      expect(result.code).toBe(255);
      expect(result.stderr).toContain("Permission denied (publickey)");
    }
  });

  it("stops listening and ends sessions on close", async () => {
    const other = await startSshMachine({ host: HOST, port: 0, user: "ubuntu", authorizedKeys: [key.publicKey] });
    const otherTarget = { ...target, port: other.port };
    const session = ssh(otherTarget, { command: "sleep 30; echo never" });
    // Let the session start before pulling the plug.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await other.close();
    const result = await session;
    expect(result.stdout).not.toContain("never");
    expect(result.code).not.toBe(0);
    expect(await isListening(HOST, other.port)).toBe(false);
    const refused = await ssh(otherTarget, { command: "echo hello" });
    expect(refused.code).toBe(255);
    expect(refused.stderr).toContain("Connection refused");
  });
});
