// Where crabbox keeps its state (config dir, config file) and how the coordinator URL and token
// are chosen: flags > environment (CRABBOX_URL, CRABBOX_TOKEN) > config file.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { CliError, EXIT, usageError } from "./errors";

export const DIR_MODE = 0o700;
export const SECRET_FILE_MODE = 0o600;

export interface StoredConfig {
  url?: string;
  token?: string;
}

export type Source = "flag" | "env" | "file";
export interface Credentials {
  url: string;
  token: string;
  sources: { url: Source; token: Source };
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CRABBOX_CONFIG_DIR) return env.CRABBOX_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, "crabbox");
  return join(homedir(), ".config", "crabbox");
}

export function configFile(dir: string): string {
  return join(dir, "config.json");
}

export function readConfig(dir: string): StoredConfig {
  let text: string;
  try {
    text = readFileSync(configFile(dir), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as StoredConfig;
    return { url: stringOrUndefined(parsed.url), token: stringOrUndefined(parsed.token) };
  } catch (error) {
    throw new CliError(`config file ${configFile(dir)} is not valid JSON: fix or delete it`, {
      code: "invalid_config",
      exitCode: EXIT.usage,
      cause: error,
    });
  }
}

export function writeConfig(dir: string, config: StoredConfig): void {
  ensurePrivateDir(dir);
  writePrivateFile(configFile(dir), `${JSON.stringify(config, null, 2)}\n`);
}

export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  // mkdir's mode only applies to directories it creates; tighten one that already existed.
  chmodSync(dir, DIR_MODE);
}

/** Writes via a fresh temporary file so the secret never exists with a looser mode, even briefly. */
export function writePrivateFile(path: string, content: string): void {
  const temporary = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(temporary, content, { mode: SECRET_FILE_MODE, flag: "wx" });
    renameSync(temporary, path);
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** What flags, environment and file gave, each value with where it came from (if anywhere). */
export interface ResolvedCredentials {
  url?: string;
  token?: string;
  sources: { url?: Source; token?: Source };
}

export function resolveCredentials(
  flags: StoredConfig,
  env: NodeJS.ProcessEnv,
  file: StoredConfig,
): ResolvedCredentials {
  const pick = (flag?: string, fromEnv?: string, fromFile?: string) =>
    flag ? { value: flag, source: "flag" as const }
    : fromEnv ? { value: fromEnv, source: "env" as const }
    : fromFile ? { value: fromFile, source: "file" as const }
    : undefined;
  const url = pick(flags.url, env.CRABBOX_URL, file.url);
  const token = pick(flags.token, env.CRABBOX_TOKEN, file.token);
  return {
    url: url && normalizeUrl(url.value),
    token: token?.value,
    sources: { url: url?.source, token: token?.source },
  };
}

export function requireCredentials(resolved: ResolvedCredentials): Credentials {
  const { url, token } = resolved;
  const { url: urlSource, token: tokenSource } = resolved.sources;
  if (!url || !token || !urlSource || !tokenSource) {
    throw new CliError("not logged in: run `crabbox login` (or set CRABBOX_URL and CRABBOX_TOKEN)", {
      code: "not_logged_in",
      exitCode: EXIT.auth,
    });
  }
  return { url, token, sources: { url: urlSource, token: tokenSource } };
}

/** Accepts http(s) URLs only and drops a trailing slash so paths join cleanly. */
export function normalizeUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw usageError(`coordinator URL ${JSON.stringify(text)} is not a URL (expected https://...)`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw usageError(`coordinator URL must be http(s), got ${url.protocol}`);
  }
  return url.toString().replace(/\/+$/, "");
}

export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host === "[::1]" || /^127\./.test(host);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
