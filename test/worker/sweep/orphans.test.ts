// The orphan sweep against the fake cloud: what it reclaims, when, and everything it must
// never touch. Real LeaseObjects answer the claims; the clock moves only when a test moves it.
import { runDurableObjectAlarm } from "cloudflare:test";
import { LeaseObject } from "../../../src/lease/object";
import { describe, expect, it, vi } from "vitest";
import { call, leaseStub, mintToken, sshPublicKey } from "../../support/api";
import { driveUntil, inState } from "../../support/drive";
import { fakeCloud } from "../../support/fake-cloud";
import {
  addMarked,
  addUnmarked,
  candidateRows,
  decisionFor,
  GRACE_MS,
  liveLease,
  MINUTE,
  releaseCalls,
  sweep,
  unknownLeaseId,
  useSweepFixture,
} from "./helpers";

const fixture = useSweepFixture();

describe("orphan sweep", () => {
  it("reclaims a machine whose lease record is gone on the second sighting a grace period later, not before", async () => {
    const orphan = addMarked(unknownLeaseId());

    const first = await sweep();
    expect(first).toMatchObject({ complete: true, seen: 1, ours: 1, claimed: 0, candidates: 1, reclaimable: 0, reclaimed: 0, failures: 0 });
    expect(decisionFor(first, orphan.id)).toMatchObject({ verdict: "wait", reason: "first sighting", action: "none" });

    fixture.clock.advance(GRACE_MS - 1_000);
    const early = await sweep();
    expect(decisionFor(early, orphan.id)).toMatchObject({ verdict: "wait", reason: "first seen 599s ago, grace 10m" });
    expect(releaseCalls()).toBe(0);
    expect(orphan.status).toBe("running");

    fixture.clock.advance(1_000);
    const second = await sweep();
    expect(decisionFor(second, orphan.id)).toMatchObject({ verdict: "reclaim", action: "released" });
    expect(second).toMatchObject({ candidates: 1, reclaimable: 1, reclaimed: 1, failures: 0 });
    expect(fakeCloud.live()).toEqual([]);
    expect(await candidateRows()).toEqual([]);

    const after = await sweep();
    expect(after).toMatchObject({ seen: 0, candidates: 0, decisions: [] });
  });

  it("holds a machine whose lease object cannot answer, and reclaims nothing of it", async () => {
    const orphan = addMarked(unknownLeaseId());
    await sweep();
    fixture.clock.advance(GRACE_MS);
    const claims = vi.spyOn(LeaseObject.prototype, "claims").mockRejectedValue(new Error("object overloaded"));
    try {
      const report = await sweep();
      expect(decisionFor(report, orphan.id)).toMatchObject({ verdict: "hold", action: "none" });
      expect(releaseCalls()).toBe(0);
      expect(orphan.status).toBe("running");
    } finally {
      claims.mockRestore();
    }
    // Once the object answers again, the earlier sighting still counts: reclaimed at once.
    const after = await sweep();
    expect(decisionFor(after, orphan.id)).toMatchObject({ verdict: "reclaim", action: "released" });
  });

  it("never touches the machine of a live lease, however long it runs", async () => {
    const lease = await liveLease();
    for (let run = 0; run < 4; run++) {
      const report = await sweep();
      expect(report).toMatchObject({ ours: 1, claimed: 1, candidates: 0, decisions: [] });
      fixture.clock.advance(GRACE_MS);
      await call("POST", `/v1/leases/${lease.id}/touch`, { token: lease.token });
    }
    expect(releaseCalls()).toBe(0);
    expect(fakeCloud.live().map((m) => [m.id, m.status])).toEqual([[lease.resourceId, "running"]]);
  });

  it("leaves alone a machine whose lease has not yet learned its id (lost create answer)", async () => {
    fakeCloud.inject({ op: "create", kind: "lost_response" });
    const token = await mintToken("sweeper-lost-create");
    const res = await call("POST", "/v1/leases", { token, body: { provider: "fakecloud", sshPublicKey: await sshPublicKey() } });
    await runDurableObjectAlarm(leaseStub(res.json.id)); // create acts, its answer is lost
    expect(fakeCloud.live()).toHaveLength(1);
    for (let run = 0; run < 3; run++) {
      expect(await sweep()).toMatchObject({ ours: 1, claimed: 1, candidates: 0 });
      fixture.clock.advance(GRACE_MS);
    }
    expect(releaseCalls()).toBe(0);
  });

  it("reclaims the machine of a lease that ended while the machine lingered", async () => {
    const lease = await liveLease();
    await call("POST", `/v1/leases/${lease.id}/release`, { token: lease.token });
    await driveUntil(lease.id, lease.token, inState("released"));
    // The provider acknowledged the teardown, but the machine came back (or never went).
    fakeCloud.machines.get(lease.resourceId)!.status = "running";
    const callsBefore = releaseCalls();

    expect(decisionFor(await sweep(), lease.resourceId)).toMatchObject({ verdict: "wait", leaseId: lease.id });
    fixture.clock.advance(GRACE_MS);
    expect(decisionFor(await sweep(), lease.resourceId)).toMatchObject({ verdict: "reclaim", action: "released" });
    expect(releaseCalls()).toBeGreaterThan(callsBefore);
    expect(fakeCloud.live()).toEqual([]);
  });

  it("never touches machines with another deployment's marker or with no marker", async () => {
    const foreign = addMarked(unknownLeaseId(), "someone-else-prod");
    const unmarked = addUnmarked();
    for (let run = 0; run < 4; run++) {
      const report = await sweep();
      expect(report).toMatchObject({ seen: 2, ours: 0, foreign: 1, unmarked: 1, candidates: 0, decisions: [] });
      fixture.clock.advance(GRACE_MS);
    }
    expect(releaseCalls()).toBe(0);
    expect([foreign.status, unmarked.status]).toEqual(["running", "running"]);
    expect(await candidateRows()).toEqual([]);
  });

  it("waits out the grace period after the provider's own creation time too", async () => {
    // The provider's clock says the machine is younger than our first sighting of it.
    const young = addMarked(unknownLeaseId(), undefined, Date.now() + 8 * MINUTE);
    await sweep();
    fixture.clock.advance(GRACE_MS);
    expect(decisionFor(await sweep(), young.id)).toMatchObject({ verdict: "wait", reason: "created 2m ago, grace 10m" });
    fixture.clock.advance(8 * MINUTE);
    expect(decisionFor(await sweep(), young.id)).toMatchObject({ verdict: "reclaim", action: "released" });
  });

  it("forgets a candidate that disappeared, so a later sighting starts the grace period over", async () => {
    const orphan = addMarked(unknownLeaseId());
    await sweep();
    expect(await candidateRows()).toHaveLength(1);
    orphan.status = "gone";
    await sweep();
    expect(await candidateRows()).toEqual([]);
  });

  it("keeps a failed reclaim recorded and finishes it in a later run", async () => {
    const orphan = addMarked(unknownLeaseId());
    await sweep();
    fixture.clock.advance(GRACE_MS);
    fakeCloud.inject({ op: "release", kind: "ambiguous", skip: 1 }); // terminate goes through, the confirmation fails
    const failed = await sweep();
    expect(decisionFor(failed, orphan.id)).toMatchObject({ verdict: "reclaim", action: "failed", detail: "fake release: 503 service unavailable" });
    expect(failed).toMatchObject({ reclaimed: 0, failures: 1 });
    expect(orphan.status).toBe("terminating");
    expect(await candidateRows()).toEqual([
      { resource_id: orphan.id, first_seen_at: Date.now() - GRACE_MS, reclaim_started_at: Date.now(), attempts: 1, last_error: "fake release: 503 service unavailable" },
    ]);

    fixture.clock.advance(5 * MINUTE);
    const next = await sweep();
    expect(decisionFor(next, orphan.id)).toMatchObject({ verdict: "reclaim", reason: "reclaim in progress", action: "released" });
    expect(fakeCloud.live()).toEqual([]);
    expect(await candidateRows()).toEqual([]);
  });
});

describe("fail closed", () => {
  it("an inventory listing that fails halfway reclaims nothing and forgets nothing", async () => {
    fakeCloud.pageSize = 2;
    const orphan = addMarked(unknownLeaseId()); // on page 1
    addUnmarked("a");
    addUnmarked("b");
    const gone = addMarked(unknownLeaseId()); // on page 2
    await sweep();
    expect(await candidateRows()).toHaveLength(2);
    gone.status = "gone";

    fixture.clock.advance(GRACE_MS);
    fakeCloud.inject({ op: "inventory", kind: "ambiguous", skip: 1 });
    const partial = await sweep();
    expect(partial).toMatchObject({ complete: false, seen: 2, reclaimed: 0, failures: 1, decisions: [] });
    expect(partial.error).toContain("page 2");
    expect(orphan.status).toBe("running");
    expect(releaseCalls()).toBe(0);
    expect(await candidateRows()).toHaveLength(2); // not even the vanished one is forgotten

    const complete = await sweep();
    expect(complete).toMatchObject({ complete: true, reclaimed: 1 });
    expect(fakeCloud.live().filter((m) => m.marker)).toEqual([]);
    expect(await candidateRows()).toEqual([]);
  });
});

describe("dry run", () => {
  it("decides exactly as the real run does and changes nothing", async () => {
    const orphan = addMarked(unknownLeaseId());
    const strip = (r: Awaited<ReturnType<typeof sweep>>) => r.decisions.map(({ action, ...rest }) => rest);

    const dry0 = await sweep(true);
    expect(decisionFor(dry0, orphan.id)).toMatchObject({ verdict: "wait", reason: "first sighting" });
    expect(await candidateRows()).toEqual([]);

    fixture.clock.advance(GRACE_MS);
    const dry1 = await sweep(true);
    expect(decisionFor(dry1, orphan.id)).toMatchObject({ verdict: "wait", reason: "first sighting" }); // the dry run recorded no sighting
    const real1 = await sweep();
    expect(strip(real1)).toEqual(strip(dry1));

    fixture.clock.advance(GRACE_MS);
    const dry2 = await sweep(true);
    expect(decisionFor(dry2, orphan.id)).toMatchObject({ verdict: "reclaim", action: "dry_run" });
    expect(dry2).toMatchObject({ reclaimable: 1, reclaimed: 0 });
    expect(releaseCalls()).toBe(0);
    expect(orphan.status).toBe("running");
    const real2 = await sweep();
    expect(strip(real2)).toEqual(strip(dry2));
    expect(decisionFor(real2, orphan.id)!.action).toBe("released");
    expect(fakeCloud.live()).toEqual([]);
  });
});
