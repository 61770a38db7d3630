// The Lambda Cloud provider factory registered in ../registry.ts: live when LAMBDA_API_KEY is set.
// `createLambdaAdapter` also takes an injected fetch, for tests that script the API.

import type { ProviderConfig, ProviderFactory } from "../types";
import { LambdaAdapter } from "./adapter";
import { LAMBDA_RATE_LIMITS } from "./client";
import { readSettings } from "./settings";

export function createLambdaAdapter(config: ProviderConfig, options: { fetch?: typeof fetch } = {}): LambdaAdapter {
  return new LambdaAdapter(readSettings(config), { ...options, pacer: config.pacer, sharedReads: config.sharedReads });
}

export const lambdaProvider: ProviderFactory = {
  name: "lambda",
  rateLimits: LAMBDA_RATE_LIMITS,
  credentials: ["LAMBDA_API_KEY"],
  configured: (config) => Boolean(config.vars.LAMBDA_API_KEY?.trim()),
  create: (config) => createLambdaAdapter(config),
};

export { LambdaAdapter, LAMBDA_CAPABILITIES, instanceStatus } from "./adapter";
