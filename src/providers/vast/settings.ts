// Vast.ai settings read from Worker vars and secrets (wrangler.toml [vars], VAST_API_KEY secret).
// Reading never throws: problems are collected so doctor can report them as checks.

import { parseDuration } from "../../contract/common";
import type { ProviderConfig } from "../types";

/** The official client's default server; it prefixes /api/v0 (or /api/v1) itself. */
export const DEFAULT_BASE_URL = "https://console.vast.ai";
/** Vast containers log in as root (contracts/README.md, cli-facts.md `_ssh_url`). */
export const SSH_USER = "root";
const DEFAULT_IMAGE = "vastai/base-image:cuda-12.4.1-auto";

export interface VastSettings {
  deploymentId: string;
  apiKey: string;
  baseUrl: string;
  /** `<N>x_<GPU>` (catalog's form), used when a lease names no type. */
  defaultType?: string;
  /** Two-letter country code (offer `geolocation`), used when a lease names no region. */
  defaultRegion?: string;
  image: string;
  diskGb: number;
  /** Operator ceiling on an offer's dph_total, in $/h; a lease may only ask for less. */
  maxPricePerHour: number;
  minReliability: number;
  /** Offers tried, cheapest first, before a create gives up with `capacity`. */
  offersTried: number;
  /** A parked instance that cannot get its GPU back within this is left parked, with the failure. */
  resumeTimeoutMs: number;
  problems: string[];
}

export function readSettings(config: ProviderConfig): VastSettings {
  const vars = config.vars;
  const text = (name: string) => {
    const value = vars[name]?.trim();
    return value ? value : undefined;
  };
  const problems: string[] = [];
  const number = (name: string, fallback: number, ok: (n: number) => boolean) => {
    const raw = text(name);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(n) || !ok(n)) {
      problems.push(`${name} is not a valid number`);
      return fallback;
    }
    return n;
  };
  const apiKey = text("VAST_API_KEY") ?? "";
  if (!apiKey) problems.push("VAST_API_KEY is not set");
  const resume = text("VAST_RESUME_TIMEOUT") ?? "10m";
  const resumeTimeoutMs = parseDuration(resume);
  if (resumeTimeoutMs === undefined) problems.push("VAST_RESUME_TIMEOUT is not a duration like 10m");
  return {
    deploymentId: config.deploymentId,
    apiKey,
    baseUrl: text("VAST_BASE_URL") ?? DEFAULT_BASE_URL,
    defaultType: text("VAST_DEFAULT_TYPE"),
    defaultRegion: text("VAST_DEFAULT_REGION"),
    image: text("VAST_IMAGE") ?? DEFAULT_IMAGE,
    diskGb: number("VAST_DISK_GB", 32, (n) => n >= 8 && n <= 10_000),
    maxPricePerHour: number("VAST_MAX_PRICE_PER_HOUR", 5, (n) => n > 0 && n <= 1_000),
    minReliability: number("VAST_MIN_RELIABILITY", 0.95, (n) => n >= 0 && n <= 1),
    offersTried: number("VAST_OFFERS_TRIED", 3, (n) => Number.isInteger(n) && n >= 1 && n <= 10),
    resumeTimeoutMs: resumeTimeoutMs ?? 10 * 60_000,
    problems,
  };
}
