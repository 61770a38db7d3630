// The Coder provider factory registered in ../registry.ts: live when CODER_URL and
// CODER_SESSION_TOKEN are set. `createCoderAdapter` also takes an injected fetch for tests.

import type { ProviderConfig, ProviderFactory } from "../types";
import { CoderAdapter } from "./adapter";
import { CODER_RATE_LIMITS } from "./client";
import { readSettings } from "./settings";

export function createCoderAdapter(config: ProviderConfig, options: { fetch?: typeof fetch } = {}): CoderAdapter {
  return new CoderAdapter(readSettings(config), { ...options, pacer: config.pacer, sharedReads: config.sharedReads });
}

export const coderProvider: ProviderFactory = {
  name: "coder",
  rateLimits: CODER_RATE_LIMITS,
  credentials: ["CODER_SESSION_TOKEN"],
  configured: (config) => Boolean(config.vars.CODER_URL?.trim() && config.vars.CODER_SESSION_TOKEN?.trim()),
  create: (config) => createCoderAdapter(config),
};

export { CoderAdapter, CODER_CAPABILITIES, workspaceStatus } from "./adapter";
