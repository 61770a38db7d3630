// The Lambda handle (key name) and ownership marker: provider-legal, unambiguous, decodable.
import { describe, expect, it } from "vitest";
import { decodeMarker, leaseHandle, markerTags } from "../../../src/providers/lambda/marker";
import type { Instance } from "../../../src/providers/lambda/wire";

const LEASE = "abcdefghij0123456789";

function instance(fields: { keys: string[]; tags?: { key: string; value: string }[] }): Instance {
  return { ssh_key_names: fields.keys, tags: fields.tags } as Instance;
}

describe("leaseHandle", () => {
  it("is crabbox-<deployment>-<lease> for a plain deployment id", () => {
    expect(leaseHandle("test-deploy", "abcdefghijkl")).toBe("crabbox-test-deploy-abcdefghijkl");
  });

  it("stays within 64 Lambda-legal characters and keeps the whole lease id", () => {
    const handle = leaseHandle("Team GPU / Production (eu) ".repeat(5), LEASE);
    expect(handle.length).toBeLessThanOrEqual(64);
    expect(handle).toMatch(/^crabbox-[a-z0-9-]+$/);
    expect(handle.endsWith(`-${LEASE}`)).toBe(true);
  });

  it("gives deployments that sanitise alike different handles", () => {
    expect(leaseHandle("Prod", LEASE)).not.toBe(leaseHandle("prod", LEASE));
    expect(leaseHandle("a_b", LEASE)).not.toBe(leaseHandle("a-b", LEASE));
  });

  it("rejects a lease id outside ^[a-z0-9]{12,20}$", () => {
    expect(() => leaseHandle("d", "short")).toThrow();
    expect(() => leaseHandle("d", "has-a-dash-0000")).toThrow();
  });

  it("tags carry the exact ids in Lambda's tag format", () => {
    for (const tag of markerTags("my-team-prod", LEASE)) {
      expect(tag.key).toMatch(/^[a-z][a-z0-9-:]+$/);
      expect(tag.key.length).toBeLessThanOrEqual(55);
      expect(tag.value.length).toBeLessThanOrEqual(128);
    }
    expect(markerTags("my-team-prod", LEASE).map((t) => t.value)).toEqual(["my-team-prod", LEASE]);
  });
});

describe("decodeMarker", () => {
  it("prefers tags, even when the deployment id contains dashes", () => {
    const handle = leaseHandle("my-team-prod", LEASE);
    const marker = decodeMarker(instance({ keys: [handle], tags: markerTags("my-team-prod", LEASE) }), "other");
    expect(marker).toEqual({ deploymentId: "my-team-prod", leaseId: LEASE, handle });
  });

  it("falls back to the key name: the lease id is what follows the last dash", () => {
    const handle = leaseHandle("my-team-prod", LEASE);
    expect(decodeMarker(instance({ keys: [handle] }), "my-team-prod")).toEqual({ deploymentId: "my-team-prod", leaseId: LEASE, handle });
  });

  it("reports this deployment's exact id when its handle segment was sanitised", () => {
    const own = "Team GPU (prod)";
    const handle = leaseHandle(own, LEASE);
    expect(decodeMarker(instance({ keys: [handle] }), own)?.deploymentId).toBe(own);
    expect(decodeMarker(instance({ keys: [handle] }), "team-gpu-prod")?.deploymentId).not.toBe("team-gpu-prod");
  });

  it("ignores instances without a crabbox marker", () => {
    expect(decodeMarker(instance({ keys: ["laptop"], tags: [{ key: "team", value: "ml" }] }), "d")).toBeUndefined();
    expect(decodeMarker(instance({ keys: ["crabbox-notalease"] }), "d")).toBeUndefined();
    expect(decodeMarker(instance({ keys: [], tags: [{ key: "crabbox-lease", value: "NOT A LEASE" }, { key: "crabbox-deployment", value: "d" }] }), "d")).toBeUndefined();
  });
});
