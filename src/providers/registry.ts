// The table of provider factories (the built-in ones come from factories.ts; tests add their fake).
// Which of them are live is decided by configuration (their credentials are present).

import type { PacingPriority } from "../pacing/gcra";
import { createPacer, pacingEnabled } from "../pacing/pacer";
import { BUILT_IN_PROVIDERS } from "./factories";
import type { ProviderAdapter, ProviderCapabilities, ProviderConfig, ProviderFactory, ReleaseAction } from "./types";

/** By name and by alias; a lease always records the factory's canonical `name`. */
const FACTORIES = new Map<string, ProviderFactory>();

/** Tests add their in-memory fake cloud here too; production registers the providers below. */
export function registerProviderFactory(factory: ProviderFactory): void {
  for (const name of [factory.name, ...(factory.aliases ?? [])]) FACTORIES.set(name, factory);
}

for (const factory of BUILT_IN_PROVIDERS) registerProviderFactory(factory);

export function providerFactories(): ProviderFactory[] {
  return [...new Set(FACTORIES.values())];
}

export function findProviderFactory(name: string): ProviderFactory | undefined {
  return FACTORIES.get(name);
}

/** Provider settings come from Worker vars and secrets, never from storage. */
export function providerConfig(env: Env): ProviderConfig {
  return { deploymentId: env.CRABBOX_DEPLOYMENT_ID, vars: env as unknown as Record<string, string | undefined> };
}

/** A provider's capabilities, known even while it has no credentials (building an adapter does no I/O). */
export function capabilitiesOf(env: Env, name: string): ProviderCapabilities | undefined {
  return FACTORIES.get(name)?.create(providerConfig(env)).capabilities;
}

/** A provider's release actions, known even while it has no credentials (capabilities are static). */
export function releaseActionsOf(env: Env, name: string): readonly ReleaseAction[] | undefined {
  return capabilitiesOf(env, name)?.releaseActions;
}

/**
 * The adapter for `name` when it exists and is configured, else undefined. Its requests take
 * permits from the account's pacing point at `priority` (src/pacing/).
 */
export function configuredAdapter(env: Env, name: string, priority: PacingPriority): ProviderAdapter | undefined {
  const factory = FACTORIES.get(name);
  if (!factory || !factory.configured(providerConfig(env))) return undefined;
  return pacedAdapter(env, factory, priority);
}

/** Every adapter that makes requests takes the account's permits: no path around the pacing point. */
export function pacedAdapter(env: Env, factory: ProviderFactory, priority: PacingPriority): ProviderAdapter {
  return factory.create({
    ...providerConfig(env),
    pacer: createPacer({ env, account: factory.name, limits: factory.rateLimits, priority }),
    sharedReads: pacingEnabled(env),
  });
}

/** A var name that holds a credential: its value is redacted everywhere and never shown. */
export const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|KUBECONFIG)$/;

/** Values of every credential-looking var: a last line of redaction for anything we log. */
export function secretValues(env: Env): string[] {
  return Object.entries(env as unknown as Record<string, unknown>)
    .filter(([name, value]) => SECRET_NAME.test(name) && typeof value === "string" && value.length >= 4)
    .map(([, value]) => value as string);
}
