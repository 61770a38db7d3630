// Ships a working tree to the lease's machine with rsync over the lease's own SSH settings (key,
// user, port, known_hosts, ProxyCommand), and named environment variables through ssh's stdin
// (never on a command line, never logged). Used by `crabbox run`.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Endpoint } from "../../src/contract/lease";
import { CliError, EXIT } from "./errors";
import type { LeasePaths } from "./lease-store";
import { deletedSince, everyFile, recordShipped } from "./shipped";
import { type HostKeyPolicy, shellQuote, sshArgs, sshSettings } from "./ssh";

const INSTALL_HINT = "install it with `apt-get install rsync` (Debian/Ubuntu), `dnf install rsync` or `brew install rsync`";

export interface SshTarget {
  endpoint: Endpoint;
  paths: LeasePaths;
  hostKeys: HostKeyPolicy;
}

export interface SyncResult {
  /** rsync's own statistics: what this run really sent. */
  filesTransferred: number;
  bytesSent: number;
  /** Files considered (the git file list, or every file with --sync-all). */
  files: number | "all";
  /** Files shipped by an earlier run on this lease and deleted here since: removed there too. */
  deleted: number;
}

/**
 * What a git checkout would ship: tracked files plus untracked ones git does not ignore, that
 * still exist. Undefined when `dir` is not inside a git work tree (then everything is sent).
 */
function gitFiles(dir: string): string[] | undefined {
  const inside = spawnSync("git", ["-C", dir, "rev-parse", "--is-inside-work-tree"], { encoding: "utf8" });
  if (inside.status !== 0 || inside.stdout.trim() !== "true") return undefined;
  const listed = spawnSync("git", ["-C", dir, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (listed.status !== 0) throw new CliError(`git ls-files failed in ${dir}: ${listed.stderr.trim()}`, { code: "sync_failed", exitCode: EXIT.usage });
  return listed.stdout.split("\0").filter((file) => file && existsSync(join(dir, file)));
}

/** rsync's `-e`: the ssh command with the lease's settings, quoted for rsync's own splitting. */
function remoteShell(target: SshTarget): string {
  const options = sshSettings(target.endpoint, target.paths, target.hostKeys).flatMap(([key, value]) => ["-o", `${key}=${value}`]);
  return ["ssh", ...options, "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"].map(shellQuote).join(" ");
}

/**
 * Ships `dir` to `remoteDir` on the machine. Files an earlier run on this lease shipped and that
 * are gone here are removed there first; anything else in that directory (what the commands made)
 * is left alone.
 */
export async function syncTree(target: SshTarget, options: { dir: string; all: boolean; remoteDir: string; signal?: AbortSignal }): Promise<SyncResult> {
  const files = options.all ? undefined : gitFiles(options.dir);
  const shipped = files ?? everyFile(options.dir);
  const gone = deletedSince(target.paths.shipped, options.remoteDir, options.dir, shipped);
  if (gone.length > 0) await removeRemote(target, options.remoteDir, gone, options.signal);
  const args = [
    "-a",
    "--stats",
    "-e",
    remoteShell(target),
    // The per-lease directory may not exist yet: make it on the far side before rsync starts.
    `--rsync-path=mkdir -p ${shellQuote(options.remoteDir)} && rsync`,
    ...(files ? ["--files-from=-", "--from0"] : []),
    `${options.dir.replace(/\/?$/, "/")}`,
    `${target.endpoint.host}:${options.remoteDir}/`,
  ];
  const { code, stdout, stderr } = await runCapture("rsync", args, files ? files.join("\0") : "", options.signal);
  if (code !== 0) {
    if (/rsync: (command )?not found|rsync: No such file|exec request failed|sh: \d*:? ?rsync/i.test(stderr) || code === 127) {
      throw new CliError(`rsync is not installed on the lease's machine: ${INSTALL_HINT} there (\`crabbox ssh <lease> -- sudo apt-get install -y rsync\`)`, {
        code: "rsync_missing_remote",
        exitCode: EXIT.connection,
      });
    }
    const reason = stderr.trim().split("\n").slice(-2).join(" ") || `rsync exited with ${code}`;
    throw new CliError(`could not ship ${options.dir} to the machine: ${reason}`, { code: "sync_failed", exitCode: EXIT.connection });
  }
  recordShipped(target.paths.shipped, options.remoteDir, shipped);
  return { ...statsOf(stdout), files: files?.length ?? "all", deleted: gone.length };
}

/**
 * `rm -f` of these paths inside the remote directory, the names NUL-separated on stdin (never on a
 * command line). A name that is already gone is fine; only ssh itself failing is an error.
 */
async function removeRemote(target: SshTarget, remoteDir: string, paths: readonly string[], signal?: AbortSignal): Promise<void> {
  const command = `cd ${shellQuote(remoteDir)} 2>/dev/null || exit 0; xargs -0 rm -f -- 2>/dev/null; exit 0`;
  const { code, stderr } = await runCapture("ssh", ["-T", ...sshArgs(target.endpoint, target.paths, target.hostKeys, [["BatchMode", "yes"], ["LogLevel", "ERROR"]]), command], paths.join("\0"), signal);
  if (code !== 0) throw new CliError(`could not remove deleted files on the machine: ${stderr.trim().split("\n").pop() || `ssh exited with ${code}`}`, { code: "sync_failed", exitCode: EXIT.connection });
}

/**
 * One rsync between here and the machine, either direction: `remote` marks which side is the
 * lease's (`<host>:<path>`). Paths are relative to the login's home on the machine.
 */
export async function copy(target: SshTarget, from: { path: string; remote: boolean }, to: { path: string; remote: boolean }, signal?: AbortSignal): Promise<SyncResult> {
  const side = (end: { path: string; remote: boolean }) => (end.remote ? `${target.endpoint.host}:${end.path}` : end.path);
  const { code, stdout, stderr } = await runCapture("rsync", ["-a", "--stats", "-e", remoteShell(target), side(from), side(to)], "", signal);
  if (code !== 0) throw new CliError(`copy failed: ${stderr.trim().split("\n").slice(-2).join(" ") || `rsync exited with ${code}`}`, { code: "copy_failed", exitCode: EXIT.connection });
  return { ...statsOf(stdout), files: "all", deleted: 0 };
}

/** Writes `export NAME='value'` lines to a 0600 file in the remote directory, through stdin. */
export async function shipEnvironment(target: SshTarget, remoteDir: string, names: readonly string[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<void> {
  const lines = names.map((name) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new CliError(`--env ${name}: not a variable name`, { code: "usage", exitCode: EXIT.usage });
    const value = env[name];
    if (value === undefined) throw new CliError(`--env ${name}: it is not set here`, { code: "usage", exitCode: EXIT.usage });
    return `export ${name}=${shellQuote(value)}`;
  });
  const dir = shellQuote(remoteDir);
  const command = `umask 077 && mkdir -p ${dir} && cat > ${dir}/.crabbox-env`;
  const { code, stderr } = await runCapture("ssh", ["-T", ...sshArgs(target.endpoint, target.paths, target.hostKeys, [["BatchMode", "yes"], ["LogLevel", "ERROR"]]), command], `${lines.join("\n")}\n`, signal);
  if (code !== 0) throw new CliError(`could not pass the environment to the machine: ${stderr.trim().split("\n").pop() ?? code}`, { code: "ssh_failed", exitCode: EXIT.connection });
}

/** The remote shell line: into the directory, the shipped environment read once and removed, then the command. */
export function remoteCommand(remoteDir: string, command: readonly string[]): string {
  const env = "if [ -f .crabbox-env ]; then . ./.crabbox-env; rm -f .crabbox-env; fi";
  return `mkdir -p ${shellQuote(remoteDir)} && cd ${shellQuote(remoteDir)} && ${env} && exec ${command.map(shellQuote).join(" ")}`;
}

/** rsync --stats: what a run really sent (tests assert on these, never on timing). */
function statsOf(stdout: string): { filesTransferred: number; bytesSent: number } {
  const stat = (label: string) => Number((new RegExp(`${label}: ([\\d,]+)`).exec(stdout)?.[1] ?? "0").replaceAll(",", ""));
  return { filesTransferred: stat("Number of regular files transferred"), bytesSent: stat("Total bytes sent") };
}

function runCapture(command: string, args: string[], input: string, signal?: AbortSignal): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], signal });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4_000)));
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (signal?.aborted) return reject(signal.reason);
      if (error.code === "ENOENT") {
        return reject(new CliError(`the \`${command}\` command was not found here: ${command === "rsync" ? INSTALL_HINT : "install the OpenSSH client"}`, { code: `${command}_not_found`, exitCode: EXIT.connection }));
      }
      reject(error);
    });
    child.once("close", (code) => resolve({ code: code ?? 255, stdout, stderr }));
    child.stdin.end(input);
  });
}
