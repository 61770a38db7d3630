// Runs the BUILT CLI (dist/cli/crabbox.mjs) as a subprocess, on the system's Node 20 when there is
// one (the CLI promises Node >= 20; vitest itself runs on Node 22), with a private config dir.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../../../..");
export const CLI = join(ROOT, "dist/cli/crabbox.mjs");

/** The first `node` on PATH outside node_modules (npm puts Node 22 there first), else this one. */
export const CLI_NODE = (() => {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, "node");
    if (dir.includes("node_modules") || !existsSync(candidate)) continue;
    return candidate;
  }
  return process.execPath;
})();
export const CLI_NODE_VERSION = execFileSync(CLI_NODE, ["--version"], { encoding: "utf8" }).trim();

/** Fails early and clearly when the bundle is missing or older than the sources it is built from. */
export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error("dist/cli/crabbox.mjs is missing: run `npm run build:cli` first");
  const built = statSync(CLI).mtimeMs;
  const newest = Math.max(...sourceFiles(join(ROOT, "cli")).map((file) => statSync(file).mtimeMs));
  if (newest > built) throw new Error("dist/cli/crabbox.mjs is older than cli/: run `npm run build:cli` first");
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

export function tempDir(prefix = "crabbox-cli-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface RunOptions {
  configDir: string;
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function startCli(args: string[], options: RunOptions): { child: ChildProcess; done: Promise<RunResult> } {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: options.configDir,
    CRABBOX_CONFIG_DIR: options.configDir,
  };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key]; // undefined unsets, e.g. CRABBOX_CONFIG_DIR
    else env[key] = value;
  }
  const child = spawn(CLI_NODE, [CLI, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  child.stdin?.end(options.input ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  const done = new Promise<RunResult>((resolveRun) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
  return { child, done };
}

export function runCli(args: string[], options: RunOptions): Promise<RunResult> {
  return startCli(args, options).done;
}

/** Resolves once the child's stderr matches, for tests that act mid-command (Ctrl-C). */
export function waitForStderr(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolveWait, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`stderr never matched ${pattern}: ${seen}`)), timeoutMs);
    child.stderr?.on("data", (chunk: Buffer) => {
      seen += chunk.toString("utf8");
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolveWait();
      }
    });
  });
}

/** A URL where nothing listens (a port just freed), for "coordinator unreachable". */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", resolveListen));
  const { port } = server.address() as { port: number };
  await new Promise((resolveClose) => server.close(resolveClose));
  return `http://127.0.0.1:${port}`;
}
