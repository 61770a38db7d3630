// fal Compute settings read from Worker vars and secrets (wrangler.toml [vars], FAL_KEY secret).
// Reading never throws: problems are collected so doctor can report them as checks.

import { readCents } from "../price";
import type { ProviderConfig } from "../types";
import { INSTANCE_TYPES, SECTORS } from "./wire";

export const DEFAULT_BASE_URL = "https://api.fal.ai/v1";
export const DEFAULT_SSH_PORT = 22;
/** fal's documented login (contracts/fal/README.md): an earlier adapter's `root` was rejected for it. */
export const SSH_USER = "ubuntu";

export interface FalSettings {
  deploymentId: string;
  apiKey: string;
  baseUrl: string;
  sshPort: number;
  defaultType: string;
  /** Only for the 8x type; never sent with 1x. */
  sector?: (typeof SECTORS)[number];
  /** The operator declares the account this deployment's alone (see README: the trade-off). */
  dedicatedAccount: boolean;
  /** Operator-configured price, since the docs give none: shown in catalog when set. */
  priceCentsPerHour?: Record<string, number>;
  problems: string[];
}

export function readSettings(config: ProviderConfig): FalSettings {
  const vars = config.vars;
  const text = (name: string) => {
    const value = vars[name]?.trim();
    return value ? value : undefined;
  };
  const problems: string[] = [];
  const apiKey = text("FAL_KEY") ?? "";
  if (!apiKey) problems.push("FAL_KEY is not set");
  const portText = text("FAL_SSH_PORT");
  const sshPort = portText === undefined ? DEFAULT_SSH_PORT : Number(portText);
  if (!Number.isInteger(sshPort) || sshPort < 1 || sshPort > 65_535) problems.push("FAL_SSH_PORT must be a TCP port number");
  const defaultType = text("FAL_DEFAULT_TYPE") ?? INSTANCE_TYPES[0];
  if (!(INSTANCE_TYPES as readonly string[]).includes(defaultType)) problems.push(`FAL_DEFAULT_TYPE must be one of ${INSTANCE_TYPES.join(", ")}`);
  const sector = text("FAL_SECTOR");
  if (sector !== undefined && !(SECTORS as readonly string[]).includes(sector)) problems.push(`FAL_SECTOR must be one of ${SECTORS.join(", ")}`);
  const dedicated = text("FAL_ACCOUNT_DEDICATED") ?? "false";
  if (dedicated !== "true" && dedicated !== "false") problems.push("FAL_ACCOUNT_DEDICATED must be true or false");
  const prices: Record<string, number> = {};
  for (const type of INSTANCE_TYPES) {
    const cents = readCents(vars, `FAL_PRICE_CENTS_PER_HOUR_${type.toUpperCase()}`, problems);
    if (cents !== undefined) prices[type] = cents;
  }
  return {
    deploymentId: config.deploymentId,
    apiKey,
    baseUrl: text("FAL_BASE_URL") ?? DEFAULT_BASE_URL,
    sshPort,
    defaultType,
    sector: sector as FalSettings["sector"],
    dedicatedAccount: dedicated === "true",
    priceCentsPerHour: Object.keys(prices).length ? prices : undefined,
    problems,
  };
}
