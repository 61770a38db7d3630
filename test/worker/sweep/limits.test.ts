// The orphan sweep's bounds: a shared account of 10,000 machines in one run, the per-run
// reclaim budget, and one provider's failure never stopping another's sweep.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { registerProviderFactory } from "../../../src/providers/registry";
import { ProviderError } from "../../../src/providers/types";
import { sweepOrphans } from "../../../src/sweep/orphans";
import { MAX_RECLAIMS_PER_RUN } from "../../../src/sweep/reclaim";
import { fakeAdapter, fakeCloud } from "../../support/fake-cloud";
import { addMarked, addUnmarked, fake, GRACE_MS, liveLease, MINUTE, sweep, unknownLeaseId, useSweepFixture } from "./helpers";

const fixture = useSweepFixture();

describe("bounds", () => {
  it("sweeps an account of 10,000 foreign and unmarked machines plus a few of ours in one run", async () => {
    fakeCloud.pageSize = 500;
    const lease = await liveLease();
    for (let i = 0; i < 5_000; i++) addUnmarked(`other-${i}`);
    for (let i = 0; i < 5_000; i++) addMarked(`neighbour${String(i).padStart(8, "0")}`, "neighbour-prod");
    const orphan = addMarked(unknownLeaseId());

    const first = await sweep();
    expect(first).toMatchObject({ complete: true, seen: 10_002, ours: 2, foreign: 5_000, unmarked: 5_000, claimed: 1, candidates: 1 });
    expect(fakeCloud.calls.filter((c) => c.op === "inventory")).toHaveLength(21);
    fixture.clock.advance(GRACE_MS);
    const second = await sweep();
    expect(second).toMatchObject({ complete: true, reclaimed: 1 });
    expect(fakeCloud.machines.get(orphan.id)!.status).toBe("gone");
    expect(fakeCloud.live()).toHaveLength(10_001);
    expect(fakeCloud.machines.get(lease.resourceId)!.status).toBe("running");
  });
});

describe("budget", () => {
  it("reclaims at most MAX_RECLAIMS_PER_RUN per run, oldest first, and defers the rest to the next run", async () => {
    const orphans = Array.from({ length: MAX_RECLAIMS_PER_RUN + 1 }, () => addMarked(unknownLeaseId()));
    await sweep();
    fixture.clock.advance(GRACE_MS);
    const full = await sweep();
    expect(full).toMatchObject({ reclaimable: MAX_RECLAIMS_PER_RUN + 1, reclaimed: MAX_RECLAIMS_PER_RUN });
    expect(full.decisions.filter((d) => d.action === "deferred")).toHaveLength(1);
    fixture.clock.advance(5 * MINUTE);
    expect(await sweep()).toMatchObject({ reclaimable: 1, reclaimed: 1 });
    expect(orphans.every((m) => m.status === "gone")).toBe(true);
  });
});

describe("provider isolation", () => {
  // A second provider whose account cannot be listed; configured only while this test runs.
  let brokenConfigured = false;
  registerProviderFactory({
    name: "brokencloud",
    rateLimits: {},
    credentials: [],
    configured: () => brokenConfigured,
    create: () => ({
      ...fakeAdapter,
      name: "brokencloud",
      inventory: async () => {
        throw new ProviderError("auth", "brokencloud: key revoked");
      },
    }),
  });

  it("one provider's failing listing does not stop the others", async () => {
    brokenConfigured = true;
    try {
      const orphan = addMarked(unknownLeaseId());
      const sweepBoth = () => sweepOrphans(env, Date.now(), { trigger: "cron", providers: ["brokencloud", "fakecloud"] });
      await sweepBoth();
      fixture.clock.advance(GRACE_MS);
      const run = await sweepBoth();
      expect(run.providers.map((p) => p.provider).sort()).toEqual(["brokencloud", "fakecloud"]);
      expect(run.providers.find((p) => p.provider === "brokencloud")).toMatchObject({ complete: false, error: "listing failed on page 1: brokencloud: key revoked", failures: 1 });
      expect(fake(run)).toMatchObject({ complete: true, reclaimed: 1 });
      expect(orphan.status).toBe("gone");
    } finally {
      brokenConfigured = false;
    }
  });
});
