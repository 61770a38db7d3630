// The effective configuration an admin sees (GET /v1/admin/config, `crabbox admin config`, the
// console): every non-secret setting with its value and where it came from, and every
// credential only as configured or missing. Secret values never leave this function.

import { COORDINATOR_DEFAULTS } from "./config";
import { providerFactories, SECRET_NAME } from "./providers/registry";

const SETTING_NAME = /^[A-Z][A-Z0-9_]*$/;

export interface EffectiveConfig {
  settings: { name: string; value: string; source: "set" | "default" | "unset" }[];
  credentials: { name: string; provider?: string; status: "configured" | "missing" }[];
}

export function effectiveConfig(env: Env): EffectiveConfig {
  const vars = env as unknown as Record<string, unknown>;
  const text = (name: string) => (typeof vars[name] === "string" ? (vars[name] as string).trim() : "");
  const names = new Set([...Object.keys(COORDINATOR_DEFAULTS), ...Object.keys(vars).filter((n) => SETTING_NAME.test(n) && typeof vars[n] === "string")]);
  const settings = [...names]
    .filter((name) => !SECRET_NAME.test(name))
    .sort()
    .map((name) => {
      const value = text(name);
      if (value) return { name, value, source: "set" as const };
      const fallback = COORDINATOR_DEFAULTS[name];
      return fallback ? { name, value: fallback, source: "default" as const } : { name, value: "", source: "unset" as const };
    });
  const credentials = [
    { name: "CRABBOX_ADMIN_TOKEN" },
    ...providerFactories().flatMap((f) => f.credentials.map((name) => ({ name, provider: f.name }))),
    { name: "TAILSCALE_AUTHKEY" },
    // Anything else that looks like a credential and is set.
    ...[...Object.keys(vars)].filter((n) => SETTING_NAME.test(n) && SECRET_NAME.test(n) && typeof vars[n] === "string").map((name) => ({ name })),
  ];
  const seen = new Set<string>();
  return {
    settings,
    credentials: credentials.filter((c) => !seen.has(c.name) && seen.add(c.name)).map((c) => ({ ...c, status: text(c.name) ? ("configured" as const) : ("missing" as const) })),
  };
}
