// The system OpenSSH client pointed at one lease: its key, user, port, own known_hosts and (for
// proxy endpoints such as Coder) its ProxyCommand. Shared by acquire's probe, `ssh` and ssh-config.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { Endpoint } from "../../src/contract/lease";
import { sleep } from "./client";
import { CliError, EXIT } from "./errors";
import type { LeasePaths } from "./lease-store";

/** sshd may have come up a moment before the coordinator saw its banner: retry this long. */
export const SSH_PROBE_WINDOW_MS = 30_000;
const SSH_PROBE_RETRY_MS = 1_000;
const SSH_CONNECT_TIMEOUT_S = 10;
const STDERR_KEEP_CHARS = 2_000;

export type HostKeyPolicy = "accept-new" | "yes";

/**
 * ssh_config keywords and values for one lease, without Host/HostName (the caller's). Values are
 * in config-line syntax, which `-o` parses the same way; ProxyCommand takes the rest of the line.
 */
export function sshSettings(endpoint: Endpoint, paths: LeasePaths, hostKeys: HostKeyPolicy): [string, string][] {
  const settings: [string, string][] = [["User", endpoint.user]];
  if (endpoint.kind === "ssh") settings.push(["Port", String(endpoint.port)]);
  else settings.push(["ProxyCommand", escapeTokens(endpoint.proxyCommand.map(shellQuote).join(" "))]);
  settings.push(
    ["IdentityFile", configQuote(escapeTokens(paths.privateKey))],
    ["IdentitiesOnly", "yes"],
    ["UserKnownHostsFile", configQuote(escapeTokens(paths.knownHosts))],
    ["StrictHostKeyChecking", hostKeys],
  );
  return settings;
}

export function sshArgs(endpoint: Endpoint, paths: LeasePaths, hostKeys: HostKeyPolicy, extra: [string, string][] = []): string[] {
  const options = [...sshSettings(endpoint, paths, hostKeys), ...extra].flatMap(([key, value]) => ["-o", `${key}=${value}`]);
  return [...options, "--", endpoint.host];
}

/** Connects with the lease key and runs `true`, recording the host key in the lease's known_hosts. */
export async function probeSsh(
  endpoint: Endpoint,
  paths: LeasePaths,
  { windowMs = SSH_PROBE_WINDOW_MS, signal }: { windowMs?: number; signal?: AbortSignal },
): Promise<void> {
  const deadline = Date.now() + windowMs;
  const batch: [string, string][] = [
    ["BatchMode", "yes"],
    ["ConnectTimeout", String(SSH_CONNECT_TIMEOUT_S)],
    ["LogLevel", "ERROR"],
  ];
  for (;;) {
    const { code, stderr } = await capture(["-T", ...sshArgs(endpoint, paths, "accept-new", batch), "true"], signal);
    if (code === 0) return;
    if (Date.now() + SSH_PROBE_RETRY_MS >= deadline) {
      const reason = stderr.trim().split("\n").pop() || `ssh exited with ${code}`;
      throw new CliError(`could not connect over SSH to ${endpoint.user}@${endpoint.host}: ${reason}`, {
        code: "ssh_failed",
        exitCode: EXIT.connection,
      });
    }
    await sleep(SSH_PROBE_RETRY_MS, signal);
  }
}

/** Runs ssh with the terminal inherited; resolves with its exit status (the remote command's). */
export function runSsh(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", args, { stdio: "inherit" });
    child.once("error", (error) => reject(sshSpawnError(error)));
    child.once("exit", (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

function capture(args: string[], signal?: AbortSignal): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", args, { stdio: ["ignore", "ignore", "pipe"], signal });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP_CHARS);
    });
    child.once("error", (error) => reject(signal?.aborted ? signal.reason : sshSpawnError(error)));
    child.once("close", (code) => resolve({ code: code ?? 255, stderr }));
  });
}

function sshSpawnError(error: Error): Error {
  if ((error as NodeJS.ErrnoException).code !== "ENOENT") return error;
  return new CliError("the `ssh` command was not found: install the OpenSSH client", {
    code: "ssh_not_found",
    exitCode: EXIT.connection,
  });
}

/** Quotes one argument for the POSIX shell ssh runs ProxyCommand with. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** ssh expands %-tokens in these values; ours are literal. */
function escapeTokens(value: string): string {
  return value.replace(/%/g, "%%");
}

/** ssh_config value quoting (paths with spaces). */
function configQuote(value: string): string {
  return /[\s"]/.test(value) ? `"${value.replace(/"/g, '\\"')}"` : value;
}
