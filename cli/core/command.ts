// What a command is (declaration + handler, one file each in cli/commands/) and the context every
// handler gets: output, config paths, the lease store, a Ctrl-C signal and the API client.
import { parseDuration } from "../../src/contract/common";
import { LEASE_STATES, type LeaseState } from "../../src/contract/lease";
import { ApiClient } from "./client";
import { type Credentials, type StoredConfig, readConfig, requireCredentials, resolveCredentials } from "./config";
import { usageError } from "./errors";
import type { LeaseStore } from "./lease-store";
import type { Output } from "./output";

export interface OptionDef {
  /** commander syntax: "--ttl <duration>", "--dry-run". */
  flags: string;
  description: string;
  choices?: readonly string[];
  parse?: (value: string) => unknown;
  defaultValue?: string | boolean;
  /** The option must be given (commander reports it as a usage error). */
  required?: boolean;
}

export interface CommandInput<Opts> {
  /** Positional arguments in declaration order, variadic ones flattened at the end. */
  args: string[];
  opts: Opts;
}

export interface CommandDef<Opts = Record<string, unknown>> {
  /** Words under `crabbox`, e.g. "admin token create". */
  path: string;
  summary: string;
  /** commander syntax: "<lease>", "[command...]". */
  args?: string[];
  options?: OptionDef[];
  /** The command reports something, so it takes `--json`. */
  json?: boolean;
  /** Lines shown under "Examples:" in its help. */
  examples?: string[];
  /** Resolves to the exit code (0 when nothing is returned). */
  run(ctx: Context, input: CommandInput<Opts>): Promise<number | void>;
}

export function defineCommand<Opts extends object>(def: CommandDef<Opts>): CommandDef<Opts> {
  return def;
}

export interface Context {
  version: string;
  out: Output;
  env: NodeJS.ProcessEnv;
  configDir: string;
  store: LeaseStore;
  /** Aborted on the first Ctrl-C; commands with cleanup to do catch it (see acquire). */
  signal: AbortSignal;
  flags: StoredConfig;
  /** URL and token by precedence flag > env > file; throws "not logged in" when either is missing. */
  credentials(): Credentials;
  /** Client with the resolved credentials; `{signal: null}` for cleanup that must outlive Ctrl-C. */
  client(options?: { signal?: AbortSignal | null; url?: string; token?: string }): ApiClient;
}

export function createContext(base: Omit<Context, "credentials" | "client">): Context {
  const credentials = () => requireCredentials(resolveCredentials(base.flags, base.env, readConfig(base.configDir)));
  return {
    ...base,
    credentials,
    client(options = {}) {
      const resolved = options.url && options.token ? { url: options.url, token: options.token } : credentials();
      return new ApiClient({
        url: resolved.url,
        token: resolved.token,
        signal: options.signal === null ? undefined : (options.signal ?? base.signal),
        userAgent: `crabbox/${base.version} node/${process.version}`,
      });
    },
  };
}

/** Option parser for durations ("90s", "30m", "2h", "7d"): bad values are usage errors. */
export function duration(value: string): string {
  if (parseDuration(value) === undefined) throw usageError(`${JSON.stringify(value)} is not a duration (like 90s, 30m, 2h, 7d)`);
  return value.trim();
}

/** A price in dollars, e.g. 0.5: positive, at most 1000 (the API's bound). */
export function dollars(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1_000) throw usageError(`"${value}" is not a price in dollars per hour, like 0.5`);
  return n;
}

/** Repeated `name=value` flags as an object (undefined when none); a pair without `=` is a usage error. */
export function keyValues(pairs: string[] | undefined, flag: string, example: string): Record<string, string> | undefined {
  if (!pairs?.length) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const match = /^([^=]+)=(.*)$/s.exec(pair);
    if (!match) throw usageError(`${flag} takes name=value, e.g. ${example} (got ${JSON.stringify(pair)})`);
    out[match[1]!] = match[2]!;
  }
  return out;
}

export function durationMs(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw usageError(`${JSON.stringify(value)} is not a duration (like 90s, 30m, 2h, 7d)`);
  return ms;
}

export const STATE_CHOICES: readonly LeaseState[] = LEASE_STATES;
