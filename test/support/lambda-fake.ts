// A scripted stand-in for the Lambda API behind an injected fetch, for unit and conformance tests
// that need exact control (one-off answers, captured request bodies). It is not the emulator
// (test/emulators/lambda/): no SSH, no timing; shapes follow ../shared/contracts/lambda/.

export interface FakeCall {
  method: string;
  path: string;
  authorization: string | null;
  body: unknown;
}

/** Answers a call instead of the fake account; return undefined to let the account answer. */
export type FakeOverride = (call: FakeCall) => Response | undefined;

type Json = Record<string, unknown>;

export const FAKE_API_KEY = "secret_fake-lambda-key-0123456789";
export const FAKE_BASE_URL = "https://cloud.lambda.ai/api/v1";

export function lambdaError(status: number, code: string, message: string, suggestion?: string): Response {
  return Response.json({ error: { code, message, ...(suggestion ? { suggestion } : {}) } }, { status });
}

const TYPE = { name: "gpu_1x_a10", description: "1x A10 (24 GB PCIe)", gpu_description: "A10 (24 GB PCIe)", price_cents_per_hour: 75, specs: { vcpus: 30, memory_gib: 200, storage_gib: 1400, gpus: 1 } };
const REGION = { name: "us-east-1", description: "Virginia, USA" };
const ACTION = { available: true };

export class FakeLambda {
  readonly instances = new Map<string, Json>();
  readonly keys = new Map<string, Json>();
  readonly rulesets = new Map<string, Json>();
  readonly calls: FakeCall[] = [];
  /** One-shot answers, consumed in order by the first call each one answers. */
  readonly overrides: FakeOverride[] = [];
  /** Status a launched instance reports first ("active" gets an ip). */
  launchStatus = "active";
  private nextId = 1;

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const text = typeof init?.body === "string" ? init.body : undefined;
    const headers = new Headers(init?.headers);
    const call: FakeCall = {
      method: (init?.method ?? "GET").toUpperCase(),
      path: url.pathname,
      authorization: headers.get("authorization"),
      body: text ? JSON.parse(text) : undefined,
    };
    this.calls.push(call);
    for (const [i, override] of this.overrides.entries()) {
      const answer = override(call);
      if (answer) {
        this.overrides.splice(i, 1);
        return answer;
      }
    }
    if (call.authorization !== `Bearer ${FAKE_API_KEY}`) {
      return lambdaError(401, "global/invalid-api-key", "API key was invalid, expired, or deleted.", "Check your API key or create a new one, then try again.");
    }
    return this.route(call);
  };

  /** Adds an instance as if launched elsewhere (another deployment, a person, an earlier attempt). */
  addInstance(fields: { sshKeyName: string; status?: string; tags?: { key: string; value: string }[]; name?: string }): string {
    const id = `inst${String(this.nextId++).padStart(28, "0")}`;
    const status = fields.status ?? "active";
    this.instances.set(id, {
      id,
      ...(fields.name ? { name: fields.name } : {}),
      ...(status === "active" ? { ip: "198.51.100.2", private_ip: "10.0.2.100" } : {}),
      status,
      ssh_key_names: [fields.sshKeyName],
      file_system_names: [],
      region: REGION,
      instance_type: TYPE,
      hostname: "198-51-100-2",
      jupyter_token: "03b7d30d9d3e4d8fa41657bc0d478c1b",
      jupyter_url: "https://jupyter-0.lambdaspaces.com/?token=03b7d30d9d3e4d8fa41657bc0d478c1b",
      actions: { migrate: ACTION, rebuild: ACTION, restart: ACTION, cold_reboot: ACTION, terminate: ACTION },
      tags: fields.tags ?? [],
    });
    return id;
  }

  addKey(name: string, publicKey: string): string {
    const id = `key${String(this.nextId++).padStart(29, "0")}`;
    this.keys.set(id, { id, name, public_key: publicKey });
    return id;
  }

  /** Moves every terminating instance to terminated, as Lambda does after a while. */
  settle(): void {
    for (const instance of this.instances.values()) if (instance.status === "terminating") instance.status = "terminated";
  }

  liveInstances(): Json[] {
    return [...this.instances.values()].filter((i) => i.status !== "terminated");
  }

  private route(call: FakeCall): Response {
    const ok = (data: unknown) => Response.json({ data });
    const [, , , resource, id] = call.path.split("/");
    const route = resource === "instance-operations" ? `${call.method} ${call.path.slice("/api/v1".length)}` : `${call.method} /${resource}${id ? "/{id}" : ""}`;
    switch (route) {
      case "GET /instances":
        return ok([...this.instances.values()]);
      case "GET /instances/{id}": {
        const instance = this.instances.get(id!);
        return instance ? ok(instance) : lambdaError(404, "global/object-does-not-exist", "Specified instance does not exist.");
      }
      case "POST /instance-operations/launch":
        return this.launch(call.body as Json);
      case "POST /instance-operations/terminate":
        return this.terminate(call.body as Json);
      case "GET /ssh-keys":
        return ok([...this.keys.values()]);
      case "POST /ssh-keys": {
        const body = call.body as { name: string; public_key: string };
        if ([...this.keys.values()].some((k) => k.name === body.name)) {
          return lambdaError(400, "global/invalid-parameters", "An SSH key with that name already exists.");
        }
        return ok(this.keys.get(this.addKey(body.name, body.public_key)));
      }
      case "DELETE /ssh-keys/{id}":
        // Lambda answers an unknown key id with 400 invalid-parameters (contracts/README.md).
        return this.keys.delete(id!) ? ok({}) : lambdaError(400, "global/invalid-parameters", "Invalid SSH key id.");
      case "GET /instance-types":
        return ok({ gpu_1x_a10: { instance_type: TYPE, regions_with_capacity_available: [REGION] } });
      case "GET /firewall-rulesets/{id}":
        return this.rulesets.has(id!)
          ? ok(this.rulesets.get(id!))
          : lambdaError(404, "global/object-does-not-exist", "Specified firewall ruleset does not exist.", "Check the firewall ruleset id.");
      case "GET /images":
        return ok([{ id: "img-1", created_time: "2025-01-01T00:00:00+00:00", updated_time: "2025-01-01T00:00:00+00:00", name: "Ubuntu 22.04", description: "Ubuntu LTS", family: "ubuntu-22-04", version: "22.04", architecture: "x86_64", region: REGION }]);
      default:
        return lambdaError(404, "global/not-found", "The requested resource was not found.");
    }
  }

  private launch(body: Json): Response {
    const [keyName] = body.ssh_key_names as string[];
    if (![...this.keys.values()].some((k) => k.name === keyName)) {
      return lambdaError(404, "global/object-does-not-exist", "SSH key not found.", "Check the SSH key name.");
    }
    const id = this.addInstance({ sshKeyName: keyName!, status: this.launchStatus, tags: body.tags as { key: string; value: string }[] | undefined, name: body.name as string });
    return Response.json({ data: { instance_ids: [id] } });
  }

  private terminate(body: Json): Response {
    const ids = body.instance_ids as string[];
    if (ids.some((id) => !this.instances.has(id))) return lambdaError(404, "global/object-does-not-exist", "Specified instance does not exist.");
    const done = ids.map((id) => {
      const instance = this.instances.get(id)!;
      instance.status = "terminating";
      return instance;
    });
    return Response.json({ data: { terminated_instances: done } });
  }
}
