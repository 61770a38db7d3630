// Operator configuration parsed from Worker vars once per isolate: lease defaults, maxima, caps.
// A malformed var fails loudly at the first request instead of silently using a default.

import { parseDuration } from "./contract/common";

export interface CoordinatorConfig {
  deploymentId: string;
  defaultAckDeadlineMs: number;
  defaultIdleTimeoutMs: number;
  defaultTtlMs: number;
  maxIdleTimeoutMs: number;
  maxTtlMs: number;
  /** The ack deadline a client may ask for is bounded by this. */
  maxAckDeadlineMs: number;
  minDurationMs: number;
  parkRetentionMs: number;
  maxLeasesPerOwner: number;
  maxLeasesGlobal: number;
  sweepGraceMs: number;
  /** The longest a lease may wait in line for capacity. */
  maxCapacityWaitMs: number;
  /** Budget defaults for owners without their own (cents; null: no limit). */
  budget: { monthlyLimitCents: number | null; maxRateCentsPerHour: number | null };
}

/** Coordinator settings and the value used when the var is absent (the admin config view shows them). */
export const COORDINATOR_DEFAULTS: Record<string, string> = {
  CRABBOX_DEPLOYMENT_ID: "",
  DEFAULT_ACK_DEADLINE: "2m",
  DEFAULT_IDLE_TIMEOUT: "30m",
  DEFAULT_TTL: "2h",
  MAX_IDLE_TIMEOUT: "24h",
  MAX_TTL: "24h",
  PARK_RETENTION: "7d",
  MAX_LEASES_PER_OWNER: "5",
  MAX_LEASES_GLOBAL: "100",
  SWEEP_GRACE: "10m",
  MAX_CAPACITY_WAIT: "2h",
  DEFAULT_MONTHLY_BUDGET: "",
  DEFAULT_MAX_SPEND_RATE: "",
  PROVIDER_PACING: "on",
};

const cache = new WeakMap<object, CoordinatorConfig>();

function duration(env: Env, name: keyof Env & string, fallback: string): number {
  const raw = (env[name] as string | undefined) ?? fallback;
  const ms = parseDuration(raw);
  if (ms === undefined) throw new Error(`configuration var ${name} is not a duration: ${raw}`);
  return ms;
}

function count(env: Env, name: keyof Env & string, fallback: number): number {
  const raw = env[name] as string | undefined;
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`configuration var ${name} is not a count: ${raw}`);
  return n;
}

/** A dollar amount var ("500", "12.50") in cents; unset or empty: no limit. */
function dollarsAsCents(env: Env, name: string): number | null {
  const raw = ((env as unknown as Record<string, string | undefined>)[name] ?? "").trim();
  if (!raw) return null;
  const dollars = Number(raw);
  if (!Number.isFinite(dollars) || dollars < 0) throw new Error(`configuration var ${name} is not a dollar amount: ${raw}`);
  return Math.round(dollars * 100);
}

export function loadConfig(env: Env): CoordinatorConfig {
  const hit = cache.get(env);
  if (hit) return hit;
  const config: CoordinatorConfig = {
    deploymentId: env.CRABBOX_DEPLOYMENT_ID,
    defaultAckDeadlineMs: duration(env, "DEFAULT_ACK_DEADLINE", COORDINATOR_DEFAULTS.DEFAULT_ACK_DEADLINE!),
    defaultIdleTimeoutMs: duration(env, "DEFAULT_IDLE_TIMEOUT", COORDINATOR_DEFAULTS.DEFAULT_IDLE_TIMEOUT!),
    defaultTtlMs: duration(env, "DEFAULT_TTL", COORDINATOR_DEFAULTS.DEFAULT_TTL!),
    maxIdleTimeoutMs: duration(env, "MAX_IDLE_TIMEOUT", COORDINATOR_DEFAULTS.MAX_IDLE_TIMEOUT!),
    maxTtlMs: duration(env, "MAX_TTL", COORDINATOR_DEFAULTS.MAX_TTL!),
    maxAckDeadlineMs: 15 * 60_000,
    minDurationMs: 1_000,
    parkRetentionMs: duration(env, "PARK_RETENTION", COORDINATOR_DEFAULTS.PARK_RETENTION!),
    maxLeasesPerOwner: count(env, "MAX_LEASES_PER_OWNER", Number(COORDINATOR_DEFAULTS.MAX_LEASES_PER_OWNER)),
    maxLeasesGlobal: count(env, "MAX_LEASES_GLOBAL", Number(COORDINATOR_DEFAULTS.MAX_LEASES_GLOBAL)),
    sweepGraceMs: duration(env, "SWEEP_GRACE", COORDINATOR_DEFAULTS.SWEEP_GRACE!),
    maxCapacityWaitMs: duration(env, "MAX_CAPACITY_WAIT", COORDINATOR_DEFAULTS.MAX_CAPACITY_WAIT!),
    budget: { monthlyLimitCents: dollarsAsCents(env, "DEFAULT_MONTHLY_BUDGET"), maxRateCentsPerHour: dollarsAsCents(env, "DEFAULT_MAX_SPEND_RATE") },
  };
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/.test(config.deploymentId ?? "")) {
    throw new Error("configuration var CRABBOX_DEPLOYMENT_ID must be 1-40 chars of letters, digits, . _ -");
  }
  cache.set(env, config);
  return config;
}
