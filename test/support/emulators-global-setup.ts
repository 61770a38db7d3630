// vitest globalSetup of the workerd project: starts the provider emulators in Node and publishes
// their ports, which vitest.config.ts turns into LAMBDA_BASE_URL / LAMBDA_SSH_PORT bindings.
import type { TestProject } from "vitest/node";
import { startLambdaEmulator, type LambdaEmulator } from "../emulators/lambda/index.ts";
import { startCoderEmulator, type CoderEmulator } from "../emulators/coder/index.ts";
import { startFalEmulator, type FalEmulator } from "../emulators/fal/index.ts";
import { startSealosEmulator, type SealosEmulator } from "../emulators/sealos/index.ts";
import { startVastEmulator, type VastEmulator } from "../emulators/vast/index.ts";

declare module "vitest" {
  interface ProvidedContext {
    lambdaPort: number;
    lambdaSshPort: number;
    vastPort: number;
    falPort: number;
    falSshPort: number;
    coderPort: number;
    sealosPort: number;
    sealosGatewayPort: number;
  }
}

/** Must match LAMBDA_API_KEY / VAST_API_KEY / FAL_KEY / CODER_SESSION_TOKEN / SEALOS_TOKEN in vitest.config.ts. */
const LAMBDA_TEST_API_KEY = "secret_test-lambda-key";
const VAST_TEST_API_KEY = "vast_test-key-0123456789";
const FAL_TEST_API_KEY = "fal_test-key-0123456789";
const CODER_TEST_TOKEN = "coder_test-admin-token-0123";
const SEALOS_TEST_TOKEN = "sealos_test-token-0123456789";

let lambda: LambdaEmulator | undefined;
let vast: VastEmulator | undefined;
let fal: FalEmulator | undefined;
let coder: CoderEmulator | undefined;
let sealos: SealosEmulator | undefined;

export async function setup(project: TestProject): Promise<void> {
  lambda = await startLambdaEmulator({
    apiKey: LAMBDA_TEST_API_KEY,
    bootMs: 0,
    terminateMs: 0,
    launchIntervalMs: 0,
  });
  project.provide("lambdaPort", lambda.port);
  project.provide("lambdaSshPort", lambda.sshPort);
  vast = await startVastEmulator({ apiKey: VAST_TEST_API_KEY });
  project.provide("vastPort", vast.port);
  fal = await startFalEmulator({ apiKey: FAL_TEST_API_KEY });
  project.provide("falPort", fal.port);
  project.provide("falSshPort", fal.sshPort);
  coder = await startCoderEmulator({ adminToken: CODER_TEST_TOKEN });
  project.provide("coderPort", coder.port);
  // The namespace must match SEALOS_NAMESPACE; a second token sees only another namespace.
  sealos = await startSealosEmulator({ tokens: { [SEALOS_TEST_TOKEN]: "ns-crabbox-test", "sealos_other-tenant-token": "ns-other" } });
  project.provide("sealosPort", sealos.port);
  project.provide("sealosGatewayPort", sealos.sshPort);
}

export async function teardown(): Promise<void> {
  await Promise.all([lambda?.close(), vast?.close(), fal?.close(), coder?.close(), sealos?.close()]);
  sealos = undefined;
  coder = undefined;
  lambda = undefined;
  vast = undefined;
  fal = undefined;
}
