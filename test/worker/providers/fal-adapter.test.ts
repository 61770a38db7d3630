// The fal adapter's edges against scripted answers: error classification (409 and 5xx replay,
// 429 and 4xx definite), a listing that must not lie about more pages, an answer about the wrong
// instance, the status map, and what a lease may not ask fal for.
import { describe, expect, it } from "vitest";
import { createFalAdapter, instanceStatus } from "../../../src/providers/fal";
import { errorKind } from "../../../src/providers/fal/client";
import { ProviderError, type LeaseSpec } from "../../../src/providers/types";

const KEY = "fal_scripted-key-0123456789";
const SPEC: LeaseSpec = { leaseId: "abcdefghijkl0123", deploymentId: "d", owner: "alice", sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5 lease" };
const adapter = (answer: (path: string) => Response, vars: Record<string, string> = {}) =>
  createFalAdapter({ deploymentId: "d", vars: { FAL_KEY: KEY, FAL_BASE_URL: "https://api.fal.ai/v1", ...vars } }, { fetch: async (input) => answer(new URL(String(input)).pathname) });

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe("fal adapter", () => {
  it("classifies: 5xx, 408 and 409 replay; 429 waits; other 4xx are definite", () => {
    expect(["ambiguous", "ambiguous", "ambiguous"]).toEqual([errorKind(503, "internal_error"), errorKind(408, undefined), errorKind(409, "conflict")]);
    expect(errorKind(429, "rate_limit_exceeded")).toBe("rate_limited");
    expect(errorKind(401, "authorization_error")).toBe("auth");
    expect(errorKind(400, "validation_error")).toBe("invalid");
    expect(errorKind(400, "capacity_unavailable")).toBe("capacity");
    expect(errorKind(404, "not_found")).toBe("not_found");
    expect(errorKind(404, undefined)).toBe("ambiguous"); // a bare 404 proves nothing
  });

  it("a listing that claims more pages must name a cursor", async () => {
    const fal = adapter(() => Response.json({ instances: [], next_cursor: null, has_more: true }));
    expect((await failure(fal.inventory())).kind).toBe("ambiguous");
  });

  it("an answer about another instance is no evidence of the one asked for", async () => {
    const fal = adapter(() => Response.json({ id: "inst_other", instance_type: "gpu_1x_h100_sxm5", status: "ready", ip: "1.2.3.4" }));
    expect((await failure(fal.inspect({ handle: "h", id: "inst_mine" }))).kind).toBe("ambiguous");
  });

  it("never echoes the admin key", async () => {
    const fal = adapter(() => Response.json({ error: { type: "internal_error", message: `boom Key ${KEY}` } }, { status: 500 }));
    const err = await failure(fal.create(SPEC, { handle: "crabbox-d-abcdefghijkl0123", number: 1, firstAt: 0 }));
    expect(err.message).not.toContain(KEY);
  });

  it("maps every documented status; unknown words fail closed", () => {
    const phase = (status: string, ip?: string) => instanceStatus({ id: "i", instance_type: "t", status, ip }, 22).phase;
    expect(phase("ready", "1.2.3.4")).toBe("running");
    expect(phase("ready")).toBe("pending");
    expect(["init", "pending", "provisioning"].map((s) => phase(s))).toEqual(["pending", "pending", "pending"]);
    expect(phase("stopped")).toBe("failed");
    expect(phase("unknown")).toBe("unknown");
    expect(phase("hibernating")).toBe("unknown");
  });

  it("sends sector only with the 8x type, and refuses what fal cannot do", async () => {
    let body: unknown;
    const fal = createFalAdapter(
      { deploymentId: "d", vars: { FAL_KEY: KEY, FAL_SECTOR: "sector_2" } },
      {
        fetch: async (_input, init) => {
          body = JSON.parse(String(init?.body));
          return Response.json({ id: "inst_1", instance_type: "x", status: "provisioning" });
        },
      },
    );
    await fal.create({ ...SPEC, type: "gpu_1x_h100_sxm5" }, { handle: "h", number: 1, firstAt: 0 });
    expect(body).not.toHaveProperty("sector");
    await fal.create({ ...SPEC, type: "gpu_8x_h100_sxm5" }, { handle: "h", number: 1, firstAt: 0 });
    expect(body).toMatchObject({ sector: "sector_2" });
    expect(fal.validate({ ...SPEC, region: "us-east" })[0]).toMatch(/region/);
    expect(fal.validate({ ...SPEC, type: "gpu_2x_h100" })[0]).toMatch(/type must be one of/);
    expect(fal.capabilities).toMatchObject({ releaseActions: ["destroy"], idempotentCreate: true, ownership: "ledger" });
  });
});
