// The providers this coordinator ships, in the order they are listed: the one place a new
// provider is added (registry.ts registers them; docs and tests read this list without a Worker).

import { coderProvider } from "./coder";
import { falProvider } from "./fal";
import { lambdaProvider } from "./lambda";
import { sealosProvider } from "./sealos";
import type { ProviderFactory } from "./types";
import { vastProvider } from "./vast";

export const BUILT_IN_PROVIDERS: readonly ProviderFactory[] = [lambdaProvider, vastProvider, falProvider, coderProvider, sealosProvider];
