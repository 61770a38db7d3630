// Every answer the Lambda emulator gives is checked against the official response schemas of
// both spec versions (../shared/contracts/lambda/openapi-*.json). Skips without
// CRABBOX_CONTRACTS_DIR, since the contracts are not part of this repository.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LambdaEmulator } from "../../../emulators/lambda/index.ts";
import { contractsDir, loadOpenApi, responseSchema, validate, type OpenApiDocument } from "../../../support/openapi.ts";
import { makeKeyPair, scratchDir } from "../ssh-client.ts";
import { LAUNCH_DEFAULTS, apiClient, startFastEmulator, waitFor, type ApiAnswer, type ApiClient } from "./helpers.ts";

const SPECS = ["openapi-1.8.3.json", "openapi-1.10.0.json"];
const CONTRACTS_DIR = contractsDir();
const loadSpec = (relativePath: string) => loadOpenApi(CONTRACTS_DIR!, ...relativePath.split("/"));

/** Problems of a response body against the spec's schema for its route and status. */
function checkResponse(doc: OpenApiDocument, route: { path: string; method: string; status: number }, body: unknown): string[] {
  try {
    return validate(doc, responseSchema(doc, route.method, route.path, route.status), body);
  } catch (err) {
    return [(err as Error).message]; // the spec declares no such route or status
  }
}

interface Exchange {
  method: string;
  /** Path as the spec names it, e.g. /api/v1/instances/{id}. */
  route: string;
  answer: ApiAnswer;
}

/** Drive every route and outcome a lease uses, recording each answer. */
async function recordExchanges(api: ApiClient, emulator: LambdaEmulator): Promise<Exchange[]> {
  const out: Exchange[] = [];
  const record = async (method: string, route: string, path: string, body?: unknown) => {
    const answer = await api.call(method, path, body);
    out.push({ method, route, answer });
    return answer;
  };
  const key = await makeKeyPair(await scratchDir(), "lease");
  const added = await record("POST", "/api/v1/ssh-keys", "/ssh-keys", { name: "lease-1", public_key: key.publicKey });
  await record("POST", "/api/v1/ssh-keys", "/ssh-keys", { name: "generated" });
  await record("POST", "/api/v1/ssh-keys", "/ssh-keys", { name: "lease-1", public_key: key.publicKey });
  await record("GET", "/api/v1/ssh-keys", "/ssh-keys");
  await record("GET", "/api/v1/instance-types", "/instance-types");
  await record("GET", "/api/v1/images", "/images");
  await record("GET", "/api/v1/file-systems", "/file-systems");

  const launchBody = { ...LAUNCH_DEFAULTS, ssh_key_names: ["lease-1"], name: "crabbox-x", tags: [{ key: "crabbox", value: "x" }] };
  await record("POST", "/api/v1/instance-operations/launch", "/instance-operations/launch", { ...launchBody, quantity: 1 });
  await record("POST", "/api/v1/instance-operations/launch", "/instance-operations/launch", { ...launchBody, ssh_key_names: ["nobody"] });
  emulator.configure({ bootMs: 60_000 });
  const booting = await record("POST", "/api/v1/instance-operations/launch", "/instance-operations/launch", launchBody);
  emulator.configure({ bootMs: 0, capacity: { "us-east-1": { gpu_1x_a10: 1 } } });
  const active = await record("POST", "/api/v1/instance-operations/launch", "/instance-operations/launch", launchBody);
  await record("POST", "/api/v1/instance-operations/launch", "/instance-operations/launch", launchBody);
  const activeId = active.body.data.instance_ids[0];
  await waitFor(api, activeId, "active");

  await record("GET", "/api/v1/instances", "/instances");
  await record("GET", "/api/v1/instances/{id}", `/instances/${booting.body.data.instance_ids[0]}`);
  await record("GET", "/api/v1/instances/{id}", `/instances/${activeId}`);
  emulator.configure({ terminateMs: 60_000 });
  await record("POST", "/api/v1/instance-operations/terminate", "/instance-operations/terminate", { instance_ids: [activeId] });
  await record("GET", "/api/v1/instances", "/instances");
  await record("POST", "/api/v1/instance-operations/terminate", "/instance-operations/terminate", { instance_ids: ["0".repeat(32)] });
  await record("GET", "/api/v1/instances/{id}", `/instances/${"0".repeat(32)}`);
  await record("DELETE", "/api/v1/ssh-keys/{id}", `/ssh-keys/${added.body.data.id}`);
  await record("DELETE", "/api/v1/ssh-keys/{id}", `/ssh-keys/${added.body.data.id}`);
  out.push({ method: "GET", route: "/api/v1/instances", answer: await apiClient(emulator, "Bearer wrong").get("/instances") });
  return out;
}

describe.skipIf(!CONTRACTS_DIR)("Lambda emulator vs the official OpenAPI specs (needs CRABBOX_CONTRACTS_DIR)", () => {
  let emulator: LambdaEmulator;
  let exchanges: Exchange[];

  beforeAll(async () => {
    emulator = await startFastEmulator();
    exchanges = await recordExchanges(apiClient(emulator), emulator);
  });
  afterAll(() => emulator?.close());

  it("covers success and error answers of every route a lease uses", () => {
    const statuses = new Set(exchanges.map((e) => e.answer.status));
    expect([...statuses].sort()).toEqual([200, 400, 401, 404]);
  });

  it.each(SPECS)("every answer matches %s", (spec) => {
    const doc = loadSpec(`lambda/${spec}`);
    const problems = exchanges.flatMap(({ method, route, answer }) =>
      checkResponse(doc, { path: route, method, status: answer.status }, answer.body).map(
        (p) => `${method} ${route} → ${answer.status}: ${p}`,
      ),
    );
    expect(problems).toEqual([]);
  });

  it("serves /regions as 1.10.0 defines it", async () => {
    const doc = loadSpec("lambda/openapi-1.10.0.json");
    const answer = await apiClient(emulator).get("/regions");
    expect(checkResponse(doc, { path: "/api/v1/regions", method: "GET", status: 200 }, answer.body)).toEqual([]);
  });
});
