// The fal Compute provider factory registered in ../registry.ts (also under the alias `fal-ai`):
// live when FAL_KEY is set. `createFalAdapter` also takes an injected fetch for scripted tests.

import type { ProviderConfig, ProviderFactory } from "../types";
import { FalAdapter } from "./adapter";
import { FAL_RATE_LIMITS } from "./client";
import { readSettings } from "./settings";

export function createFalAdapter(config: ProviderConfig, options: { fetch?: typeof fetch } = {}): FalAdapter {
  return new FalAdapter(readSettings(config), { ...options, pacer: config.pacer, sharedReads: config.sharedReads });
}

export const falProvider: ProviderFactory = {
  name: "fal",
  aliases: ["fal-ai"],
  rateLimits: FAL_RATE_LIMITS,
  credentials: ["FAL_KEY"],
  configured: (config) => Boolean(config.vars.FAL_KEY?.trim()),
  create: (config) => createFalAdapter(config),
};

export { FalAdapter, FAL_CAPABILITIES, instanceStatus } from "./adapter";
