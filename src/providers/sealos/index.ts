// The Sealos provider factory registered in ../registry.ts: live when an API server and a token
// are configured (SEALOS_API_SERVER + SEALOS_TOKEN, or SEALOS_KUBECONFIG). `createSealosAdapter`
// also takes an injected fetch for tests.

import type { ProviderConfig, ProviderFactory } from "../types";
import { SealosAdapter } from "./adapter";
import { SEALOS_RATE_LIMITS } from "./client";
import { readSettings } from "./settings";

export function createSealosAdapter(config: ProviderConfig, options: { fetch?: typeof fetch } = {}): SealosAdapter {
  return new SealosAdapter(readSettings(config), { ...options, pacer: config.pacer, sharedReads: config.sharedReads });
}

export const sealosProvider: ProviderFactory = {
  name: "sealos",
  aliases: ["sealos-devbox", "sealos-dev"],
  rateLimits: SEALOS_RATE_LIMITS,
  credentials: ["SEALOS_TOKEN", "SEALOS_KUBECONFIG"],
  configured: (config) => Boolean(config.vars.SEALOS_KUBECONFIG?.trim() || (config.vars.SEALOS_API_SERVER?.trim() && config.vars.SEALOS_TOKEN?.trim())),
  create: (config) => createSealosAdapter(config),
};

export { SealosAdapter, sealosCapabilities, devboxManifest, devboxStatus, secretRoute } from "./adapter";
