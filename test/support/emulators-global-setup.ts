// vitest globalSetup of the workerd project: starts the provider emulators in Node and publishes
// their ports, which vitest.config.ts turns into LAMBDA_BASE_URL / LAMBDA_SSH_PORT bindings.
import type { TestProject } from "vitest/node";
import { startLambdaEmulator, type LambdaEmulator } from "../emulators/lambda/index.ts";

declare module "vitest" {
  interface ProvidedContext {
    lambdaPort: number;
    lambdaSshPort: number;
  }
}

/** Must match LAMBDA_API_KEY in vitest.config.ts. */
const LAMBDA_TEST_API_KEY = "secret_test-lambda-key";

let lambda: LambdaEmulator | undefined;

export async function setup(project: TestProject): Promise<void> {
  lambda = await startLambdaEmulator({
    apiKey: LAMBDA_TEST_API_KEY,
    bootMs: 0,
    terminateMs: 0,
    launchIntervalMs: 0,
  });
  project.provide("lambdaPort", lambda.port);
  project.provide("lambdaSshPort", lambda.sshPort);
}

export async function teardown(): Promise<void> {
  await lambda?.close();
  lambda = undefined;
}
