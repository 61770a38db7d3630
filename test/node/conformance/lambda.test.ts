// The Lambda adapter against the official contract (../shared/contracts/lambda/): every request it
// sends validates against both spec versions, and its wire schemas read the recorded responses.
// Needs CRABBOX_CONTRACTS_DIR (CI sets it); skipped with a message when unset.
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { createLambdaAdapter } from "../../../src/providers/lambda";
import * as wire from "../../../src/providers/lambda/wire";
import type { LeaseSpec } from "../../../src/providers/types";
import { FAKE_API_KEY, FAKE_BASE_URL, FakeLambda, type FakeCall } from "../../support/lambda-fake";
import {
  CONTRACTS_SKIP_MESSAGE,
  componentSchema,
  contractsDir,
  loadOpenApi,
  readJson,
  requestSchema,
  responseSchema,
  validate,
  type OpenApiDocument,
} from "../../support/openapi";

const dir = contractsDir();
const SPEC_FILES = ["openapi-1.8.3.json", "openapi-1.10.0.json"];
const LEASE: LeaseSpec = {
  leaseId: "abcdefghijkl0123",
  deploymentId: "Team GPU (prod)",
  owner: "alice",
  sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LWZvci1jcmFiYm94 lease",
};

/** The exchanges of one full lease (doctor, catalog, create, inspect, inventory, release). */
async function leaseLifecycle(): Promise<{ call: FakeCall; status: number; body: unknown }[]> {
  const fake = new FakeLambda();
  const exchanges: { call: FakeCall; status: number; body: unknown }[] = [];
  const recording: typeof fetch = async (input, init) => {
    const response = await fake.fetch(input, init);
    const call = fake.calls.at(-1)!;
    exchanges.push({ call, status: response.status, body: await response.clone().json() });
    return response;
  };
  const vars = {
    LAMBDA_API_KEY: FAKE_API_KEY,
    LAMBDA_BASE_URL: FAKE_BASE_URL,
    LAMBDA_DEFAULT_REGION: "us-east-1",
    LAMBDA_DEFAULT_TYPE: "gpu_1x_a10",
    LAMBDA_IMAGE_FAMILY: "ubuntu-22-04",
    LAMBDA_FIREWALL_RULESET_ID: "c4d291f47f9d436fa39f58493ce3b50d",
  };
  const lambda = createLambdaAdapter({ deploymentId: LEASE.deploymentId, vars }, { fetch: recording });
  await lambda.doctor();
  await lambda.catalog();
  const handle = lambda.handle(LEASE);
  const ref = await lambda.create(LEASE, { handle, number: 1, firstAt: 0 });
  await lambda.inspect(ref, LEASE);
  await lambda.inventory();
  await lambda.recover(LEASE, handle);
  for (let step = 0; step < 5 && !(await lambda.release(ref, "destroy", LEASE)).done; step++) fake.settle();
  await lambda.release({ handle }, "destroy", LEASE);
  return exchanges;
}

/** The spec path template a concrete path matches, e.g. /api/v1/instances/{id}. */
function specPath(doc: OpenApiDocument, path: string): string | undefined {
  return Object.keys(doc.paths).find((template) => new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(path));
}

const EXAMPLES: [string, z.ZodMiniType][] = [
  ["example-m_instances_response.json", wire.envelope(z.array(wire.Instance))],
  ["example-m_instance_get_response.json", wire.envelope(wire.Instance)],
  ["example-m_instance_types_response.json", wire.envelope(wire.InstanceTypes)],
  ["example-m_ssh_keys_response.json", wire.envelope(z.array(wire.SshKey))],
  ["example-m_images_response.json", wire.envelope(z.array(wire.Image))],
];

describe.skipIf(!dir)("Lambda adapter vs the official OpenAPI contract", () => {
  for (const file of SPEC_FILES) {
    describe(file, () => {
      const doc = () => loadOpenApi(dir!, "lambda", file);

      it("every request the adapter sends is a spec operation with a valid body", async () => {
        const exchanges = await leaseLifecycle();
        const sent = new Set(exchanges.map(({ call }) => `${call.method} ${specPath(doc(), call.path)}`));
        expect([...sent].sort()).toEqual([
          "DELETE /api/v1/ssh-keys/{id}",
          "GET /api/v1/firewall-rulesets/{id}",
          "GET /api/v1/images",
          "GET /api/v1/instance-types",
          "GET /api/v1/instances",
          "GET /api/v1/instances/{id}",
          "GET /api/v1/ssh-keys",
          "POST /api/v1/instance-operations/launch",
          "POST /api/v1/instance-operations/terminate",
          "POST /api/v1/ssh-keys",
        ]);
        for (const { call } of exchanges) {
          const template = specPath(doc(), call.path)!;
          if (call.method === "GET" || call.method === "DELETE") {
            expect(call.body, `${call.method} ${template} sends no body`).toBeUndefined();
            continue;
          }
          expect(validate(doc(), requestSchema(doc(), call.method, template), call.body), `${call.method} ${template}`).toEqual([]);
        }
      });

      it("the validator has teeth: a launch body breaking the spec is reported", () => {
        const schema = requestSchema(doc(), "POST", "/api/v1/instance-operations/launch");
        const bad = { region_name: "us-east-1", ssh_key_names: "k", name: "x".repeat(65), tags: [{ key: "Bad Key", value: "v" }] };
        expect(validate(doc(), schema, bad)).toEqual([
          "$: missing required instance_type_name",
          "$.ssh_key_names: expected array, got string",
          "$.name: longer than 64",
          "$.tags[0].key: does not match ^[a-z][a-z0-9-:]+$",
        ]);
      });

      it("the scripted API used by unit tests answers in the spec's shapes", async () => {
        for (const { call, status, body } of await leaseLifecycle()) {
          const template = specPath(doc(), call.path)!;
          expect(validate(doc(), responseSchema(doc(), call.method, template, status), body), `${call.method} ${template} ${status}`).toEqual([]);
        }
      });

      it("the recorded example responses match the spec", () => {
        const ops: Record<string, string> = {
          "example-m_instances_response.json": "/api/v1/instances",
          "example-m_instance_get_response.json": "/api/v1/instances/{id}",
          "example-m_instance_types_response.json": "/api/v1/instance-types",
          "example-m_ssh_keys_response.json": "/api/v1/ssh-keys",
          "example-m_images_response.json": "/api/v1/images",
        };
        for (const [example, path] of Object.entries(ops)) {
          expect(validate(doc(), responseSchema(doc(), "GET", path, 200), readJson(dir!, "lambda", example)), example).toEqual([]);
        }
      });

      it("the wire status list is the spec's InstanceStatus enum", () => {
        expect([...wire.INSTANCE_STATUSES].sort()).toEqual([...(componentSchema(doc(), "InstanceStatus").enum as string[])].sort());
      });

      it("request schemas name only spec fields and every required one", () => {
        const pairs: [z.ZodMiniObject, string, string][] = [
          [wire.LaunchRequest, "POST", "/api/v1/instance-operations/launch"],
          [wire.TerminateRequest, "POST", "/api/v1/instance-operations/terminate"],
          [wire.AddSshKeyRequest, "POST", "/api/v1/ssh-keys"],
        ];
        for (const [schema, method, path] of pairs) {
          const spec = resolved(doc(), requestSchema(doc(), method, path));
          const ours = Object.keys(schema.shape);
          expect(ours.filter((field) => !(field in (spec.properties as object))), path).toEqual([]);
          expect((spec.required as string[]).filter((field) => !ours.includes(field)), path).toEqual([]);
        }
      });
    });
  }

  it("the adapter's wire schemas read every recorded example response", () => {
    for (const [example, schema] of EXAMPLES) {
      const parsed = schema.safeParse(readJson(dir!, "lambda", example));
      expect(parsed.success ? [] : parsed.error.issues, example).toEqual([]);
    }
  });
});

describe.skipIf(dir)("Lambda conformance", () => {
  it.skip(CONTRACTS_SKIP_MESSAGE, () => undefined);
});

function resolved(doc: OpenApiDocument, schema: Record<string, unknown>): Record<string, unknown> {
  if (typeof schema.$ref !== "string") return schema;
  return componentSchema(doc, schema.$ref.split("/").at(-1)!);
}
