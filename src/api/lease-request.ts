// Turns a validated create request into the normalised LeaseRequest the LeaseObject stores:
// provider known and configured, release action supported, durations within operator limits.
// Everything here answers 4xx before any lease or provider resource exists.

import { loadConfig, type CoordinatorConfig } from "../config";
import { formatDuration, parseDuration } from "../contract/common";
import type { CreateLeaseRequest } from "../contract/lease";
import type { LeaseRequest } from "../lease/record";
import { findProviderFactory, pacedAdapter, providerConfig } from "../providers/registry";
import type { LeaseSpec, ProviderAdapter } from "../providers/types";
import { randomString, sha256Hex } from "../ledger/tokens";
import { composeBootScript, needsCloudInit } from "../boot/compose";
import { tailscaleSettings } from "../boot/settings";
import { ApiError, badRequest } from "./errors";
import { providerFailure } from "./provider-failure";

export function newLeaseId(): string {
  return randomString(16, "abcdefghijklmnopqrstuvwxyz0123456789");
}

/** Parses a duration field and checks it against [min, max]. */
export function boundedDuration(field: string, value: string | undefined, fallbackMs: number, maxMs: number, config: CoordinatorConfig): number {
  if (value === undefined) return fallbackMs;
  const ms = parseDuration(value);
  if (ms === undefined) throw badRequest("invalid_request", `${field} is not a duration like 90s, 30m, 2h`);
  if (ms < config.minDurationMs || ms > maxMs) {
    throw new ApiError(400, "duration_out_of_range", `${field} must be between ${formatDuration(config.minDurationMs)} and ${formatDuration(maxMs)}`);
  }
  return ms;
}

export function adapterForRequest(env: Env, provider: string): ProviderAdapter {
  const factory = findProviderFactory(provider);
  if (!factory) throw badRequest("unknown_provider", `unknown provider "${provider}"; GET /v1/providers lists them`);
  const config = providerConfig(env);
  if (!factory.configured(config)) throw badRequest("provider_not_configured", `provider "${provider}" has no credentials on this coordinator`);
  // What an API request reads from the provider (prices, a template's parameters, the catalog,
  // doctor) goes through the account's pacing point like every lease's calls, at create priority.
  return pacedAdapter(env, factory, "create");
}

export interface NormalizedCreate {
  request: LeaseRequest;
  adapter: ProviderAdapter;
  /** What the adapter will be asked to create. */
  spec: LeaseSpec;
  /** What the lease reserves per hour against its owner's budget; undefined: no price. */
  priceCentsPerHour?: number;
}

export async function normalizeCreate(
  env: Env,
  body: CreateLeaseRequest,
  lease: { leaseId: string; owner: string },
  providerUsers?: Record<string, string>,
): Promise<NormalizedCreate> {
  const config = loadConfig(env);
  const adapter = adapterForRequest(env, body.provider);
  const caps = adapter.capabilities;
  const releaseAction = body.releaseAction ?? caps.defaultReleaseAction;
  if (!caps.releaseActions.includes(releaseAction)) {
    throw badRequest("unsupported_release_action", `${body.provider} supports release actions: ${caps.releaseActions.join(", ")}`);
  }
  const named = typeof body.type === "string" ? [body.type] : body.type;
  if (named && new Set(named).size !== named.length) throw badRequest("invalid_request", "type names the same type twice");
  const types = named && named.length > 1 ? named : undefined;
  const request: LeaseRequest = {
    // The canonical name, also when the client used an alias (fal-ai → fal).
    provider: adapter.name,
    type: named?.[0] ?? adapter.defaults?.type,
    types,
    waitForCapacityMs: body.waitForCapacity === undefined ? undefined : boundedDuration("waitForCapacity", body.waitForCapacity, 0, config.maxCapacityWaitMs, config),
    region: body.region ?? adapter.defaults?.region,
    image: body.image,
    sshPublicKey: body.sshPublicKey,
    ttlMs: boundedDuration("ttl", body.ttl, config.defaultTtlMs, config.maxTtlMs, config),
    idleTimeoutMs: boundedDuration("idleTimeout", body.idleTimeout, config.defaultIdleTimeoutMs, config.maxIdleTimeoutMs, config),
    ackDeadlineMs: boundedDuration("ackDeadline", body.ackDeadline, config.defaultAckDeadlineMs, Math.max(config.maxAckDeadlineMs, config.defaultAckDeadlineMs), config),
    releaseAction,
    maxPricePerHour: body.maxPricePerHour,
    userData: body.userData === undefined ? undefined : { sha256: await sha256Hex(body.userData), bytes: utf8Bytes(body.userData) },
    tailscale: body.tailscale || undefined,
    providerUser: providerUsers?.[adapter.name],
    parameters: body.parameters && Object.keys(body.parameters).length ? body.parameters : undefined,
  };
  if (request.parameters && !caps.templateParameters) throw badRequest("invalid_request", `${body.provider} takes no template parameters`);
  if (request.parameters && Object.keys(request.parameters).length > MAX_PARAMETERS) throw badRequest("invalid_request", `at most ${MAX_PARAMETERS} parameters`);
  checkBoot(env, adapter, body);
  for (const field of caps.requires) {
    if (request[field] === undefined) {
      throw badRequest("invalid_request", `${body.provider} needs a ${field}: name one, or configure the provider's default`);
    }
  }
  const { type, region, image, sshPublicKey, ttlMs, maxPricePerHour, providerUser, parameters } = request;
  const spec: LeaseSpec = { ...lease, deploymentId: config.deploymentId, type, region, image, sshPublicKey, ttlMs, maxPricePerHour, providerUser, parameters };
  // What the provider would refuse is refused now, before any lease or machine exists (a check
  // that needs the provider, such as a template's parameters, answers 502 when it cannot run).
  const asApiError = (err: unknown) => providerFailure(env, err, body.provider);
  // Every acceptable type must be one the provider would take.
  const specs = (types ?? [type]).map((t) => ({ ...spec, type: t }));
  const problems = [...new Set((await Promise.all(specs.map((s) => Promise.resolve(adapter.validate(s)).catch(asApiError)))).flat())];
  if (problems.length) {
    throw new ApiError(400, "invalid_for_provider", `${body.provider} cannot take this request: ${problems.join("; ")}`);
  }
  // What admission reserves against the owner's budget (a read: the type's list price); of
  // several acceptable types, the dearest, since any of them may be the one created.
  const prices = await Promise.all(specs.map((s) => adapter.priceCentsPerHour(s).catch(asApiError)));
  const known = prices.filter((p): p is number => p !== undefined);
  const priceCentsPerHour = known.length ? Math.max(...known) : undefined;
  return { request, adapter, spec, priceCentsPerHour };
}

/** Canonical hash of what was asked: the same id with the same hash joins, otherwise 409. */
export function requestHash(request: LeaseRequest): Promise<string> {
  const keys = Object.keys(request).sort() as (keyof LeaseRequest)[];
  return sha256Hex(JSON.stringify(keys.map((k) => [k, request[k] ?? null])));
}

const MAX_PARAMETERS = 64;

const utf8Bytes = (text: string) => new TextEncoder().encode(text).byteLength;

/**
 * A boot script needs a provider boot hook that takes it (size, cloud-init), and tailscale needs
 * the operator's key: refused here, before any lease exists. The size is checked on the script
 * as it will be sent (the tailnet join included, with a real-length key).
 */
function checkBoot(env: Env, adapter: ProviderAdapter, body: CreateLeaseRequest): void {
  if (body.userData === undefined && !body.tailscale) return;
  const hook = adapter.capabilities.bootHook;
  if (!hook) throw new ApiError(400, "invalid_for_provider", `${adapter.name} has no boot hook: it cannot run user data or join a tailnet`);
  if (!hook.cloudInit && needsCloudInit(body.userData)) {
    throw new ApiError(400, "invalid_for_provider", `${adapter.name} runs shell scripts at boot (${hook.field}), not cloud-init documents`);
  }
  const { authKey, tags } = tailscaleSettings(env);
  if (body.tailscale && !authKey) throw new ApiError(400, "tailscale_not_configured", "this coordinator has no TAILSCALE_AUTHKEY: ask an operator, or lease without tailscale");
  const script = composeBootScript({
    userData: body.userData,
    tailscale: body.tailscale ? { authKey: authKey!, hostname: "x".repeat(40), tags } : undefined,
    cloudInit: hook.cloudInit,
  });
  const bytes = utf8Bytes(script ?? "");
  if (bytes > hook.maxBytes) throw new ApiError(400, "invalid_for_provider", `${adapter.name} takes at most ${hook.maxBytes} bytes of boot script (${hook.field}); this one is ${bytes}`);
}