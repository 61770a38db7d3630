// The Vast.ai provider factory registered in ../registry.ts: live when VAST_API_KEY is set.
// `createVastAdapter` also takes an injected fetch, for tests that script the API.

import type { ProviderConfig, ProviderFactory } from "../types";
import { VastAdapter } from "./adapter";
import { VAST_RATE_LIMITS } from "./client";
import { readSettings } from "./settings";

export function createVastAdapter(config: ProviderConfig, options: { fetch?: typeof fetch } = {}): VastAdapter {
  return new VastAdapter(readSettings(config), { ...options, pacer: config.pacer, sharedReads: config.sharedReads });
}

export const vastProvider: ProviderFactory = {
  name: "vast",
  rateLimits: VAST_RATE_LIMITS,
  credentials: ["VAST_API_KEY"],
  configured: (config) => Boolean(config.vars.VAST_API_KEY?.trim()),
  create: (config) => createVastAdapter(config),
};

export { VastAdapter, VAST_CAPABILITIES, instanceStatus } from "./adapter";
