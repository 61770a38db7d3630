// Test helpers around the stock OpenSSH client: key pairs from ssh-keygen, one-shot `ssh`
// runs (asynchronous: the SSH server under test lives in this same process), port probes.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const SSH_TIMEOUT_MS = 20_000;

export async function scratchDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "crabbox-ssh-test-"));
}

export interface KeyPair {
  privatePath: string;
  publicKey: string;
}

export async function makeKeyPair(dir: string, name: string): Promise<KeyPair> {
  const privatePath = join(dir, name);
  await execFileAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", privatePath]);
  return { privatePath, publicKey: (await readFile(`${privatePath}.pub`, "utf8")).trim() };
}

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  key: KeyPair;
  /** A real file (OpenSSH insists); created empty when missing. */
  knownHosts: string;
}

export interface SshResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `ssh` once. No command: an interactive shell fed from `input` (a pty with `tty`). */
export async function ssh(
  target: SshTarget,
  options: { command?: string; input?: string; tty?: boolean } = {},
): Promise<SshResult> {
  await writeFile(target.knownHosts, "", { flag: "a" });
  const args = [
    "-F", "/dev/null",
    "-i", target.key.privatePath,
    "-p", String(target.port),
    "-o", "StrictHostKeyChecking=accept-new",
    "-o", `UserKnownHostsFile=${target.knownHosts}`,
    "-o", "BatchMode=yes",
    "-o", "IdentitiesOnly=yes",
    "-o", "IdentityAgent=none",
    "-o", "ConnectTimeout=5",
    "-o", "LogLevel=ERROR",
    ...(options.tty ? ["-tt"] : []),
    `${target.user}@${target.host}`,
    ...(options.command !== undefined ? [options.command] : []),
  ];
  const child = spawn("ssh", args, { stdio: "pipe" });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(options.input ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), SSH_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** True when something accepts TCP connections on host:port. */
export function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
