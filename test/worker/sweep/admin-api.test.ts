// /v1/admin/sweeps: admins run the sweep (or a dry run) and read the recorded runs; nobody
// else can. Runs are restricted to the fake cloud: other providers' accounts are shared.
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, mintToken } from "../../support/api";
import { addMarked, addUnmarked, GRACE_MS, unknownLeaseId, useSweepFixture } from "./helpers";

const fixture = useSweepFixture();

const run = (body: unknown, token = ADMIN_TOKEN) => call("POST", "/v1/admin/sweeps", { token, body });

describe("admin sweep endpoints", () => {
  it("are refused to users and to callers without a token", async () => {
    const user = await mintToken("not-an-admin");
    for (const [method, body] of [["GET", undefined], ["POST", { dryRun: true }]] as const) {
      const asUser = await call(method, "/v1/admin/sweeps", { token: user, body });
      expect(asUser.status).toBe(403);
      expect(asUser.json.error.code).toBe("forbidden");
      const anonymous = await call(method, "/v1/admin/sweeps", { body });
      expect(anonymous.status).toBe(401);
    }
    expect((await call("GET", "/v1/admin/sweeps", { token: ADMIN_TOKEN })).json.sweeps).toEqual([]);
  });

  it("run the sweep now, as a dry run or for real, and list the runs newest first", async () => {
    const orphan = addMarked(unknownLeaseId());
    addUnmarked();
    const first = await run({ providers: ["fakecloud"] });
    expect(first.status, first.text).toBe(200);
    expect(first.json).toMatchObject({ trigger: "admin", dryRun: false, graceSeconds: 600, startedAt: new Date(Date.now()).toISOString() });
    expect(first.json.providers).toEqual([
      {
        provider: "fakecloud",
        complete: true,
        seen: 2,
        ours: 1,
        foreign: 0,
        unmarked: 1,
        claimed: 0,
        candidates: 1,
        reclaimable: 0,
        reclaimed: 0,
        failures: 0,
        unchecked: 0,
        decisions: [
          {
            resourceId: orphan.id,
            leaseId: orphan.marker!.leaseId,
            handle: orphan.handle,
            status: "running",
            createdAt: new Date(Date.now()).toISOString(),
            firstSeenAt: new Date(Date.now()).toISOString(),
            verdict: "wait",
            reason: "first sighting",
            action: "none",
          },
        ],
        decisionsOmitted: 0,
        sideObjects: { listed: 0, stranded: 0, removed: 0, objects: [] },
      },
    ]);

    fixture.clock.advance(GRACE_MS);
    const dry = await run({ dryRun: true, providers: ["fakecloud"] });
    expect(dry.json.dryRun).toBe(true);
    expect(dry.json.providers[0].decisions[0]).toMatchObject({ verdict: "reclaim", action: "dry_run" });
    expect(orphan.status).toBe("running");

    const listed = await call("GET", "/v1/admin/sweeps?limit=5", { token: ADMIN_TOKEN });
    expect(listed.status).toBe(200);
    expect(listed.json.sweeps.map((s: any) => s.id)).toEqual([dry.json.id, first.json.id]);
    expect(listed.json.sweeps[1]).toEqual(first.json);
  });

  it("refuses unknown or unconfigured providers and malformed bodies", async () => {
    expect((await run({ providers: ["nosuchcloud"] })).json.error.code).toBe("unknown_provider");
    expect((await run({ dryRun: "yes" })).status).toBe(400);
    expect((await run({ dryRun: true, extra: 1 })).json.error.code).toBe("invalid_request");
    expect((await call("GET", "/v1/admin/sweeps?limit=0", { token: ADMIN_TOKEN })).status).toBe(400);
  });

  it("keeps the listing bounded by limit", async () => {
    for (let i = 0; i < 3; i++) {
      expect((await run({ dryRun: true, providers: ["fakecloud"] })).status).toBe(200);
      fixture.clock.advance(1_000);
    }
    const listed = await call("GET", "/v1/admin/sweeps?limit=2", { token: ADMIN_TOKEN });
    expect(listed.json.sweeps).toHaveLength(2);
    expect(Date.parse(listed.json.sweeps[0].startedAt)).toBeGreaterThan(Date.parse(listed.json.sweeps[1].startedAt));
  });

  it("is described in the OpenAPI document", async () => {
    const doc = (await call("GET", "/v1/openapi.json")).json;
    expect(Object.keys(doc.paths["/v1/admin/sweeps"]).sort()).toEqual(["get", "post"]);
    expect(doc.paths["/v1/admin/sweeps"].post.responses["200"].content["application/json"].schema.properties.providers).toBeDefined();
  });
});
