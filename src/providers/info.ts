// What the API says about a provider (GET /v1/providers): its declared capabilities as an
// allow-list, its defaults, whether it is configured. Also the source of the capability matrix
// in `crabbox providers`, the console and the README (src/contract/matrix.ts).

import type { ProviderCapabilities, ProviderConfig, ProviderFactory } from "./types";

export function publicCapabilities(caps: ProviderCapabilities) {
  return {
    releaseActions: [...caps.releaseActions],
    defaultReleaseAction: caps.defaultReleaseAction,
    route: caps.route,
    readiness: caps.readiness,
    stoppedBills: caps.stoppedBills,
    resume: caps.resume,
    requires: [...caps.requires],
    keyHandling: caps.keyHandling,
    ...(caps.proxyClient ? { proxyClient: { ...caps.proxyClient } } : {}),
  };
}

/** Capabilities are static: building an adapter does no I/O, configured or not. */
export function providerInfo(factory: ProviderFactory, config: ProviderConfig) {
  const configured = factory.configured(config);
  const adapter = factory.create(config);
  return { name: factory.name, configured, capabilities: publicCapabilities(adapter.capabilities), defaults: configured ? (adapter.defaults ?? {}) : {} };
}
