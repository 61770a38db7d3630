// The sweep's pure parts: the verdict on an unclaimed resource, and the bounded listing that
// keeps only provably-ours resources.
import { describe, expect, it } from "vitest";
import type { InventoryPage, ProviderAdapter } from "../../../src/providers/types";
import { judge } from "../../../src/sweep/decide";
import { listOwned, MAX_INVENTORY_PAGES } from "../../../src/sweep/inventory";
import { fakeAdapter } from "../../support/fake-cloud";

const GRACE = 600_000;
const T = Date.UTC(2030, 0, 1);
const resource = { leaseId: "leaseaaaa0001", handle: "crabbox-x-leaseaaaa0001" };

describe("judge", () => {
  it("waits on a first sighting and until a full grace period separates two sightings", () => {
    expect(judge(resource, undefined, T, GRACE)).toMatchObject({ verdict: "wait", reason: "first sighting", firstSeenAt: T });
    const prior = { ...resource, firstSeenAt: T };
    expect(judge(resource, prior, T + GRACE - 1, GRACE).verdict).toBe("wait");
    expect(judge(resource, prior, T + GRACE, GRACE)).toMatchObject({ verdict: "reclaim", reason: "unclaimed for 10m", firstSeenAt: T });
  });

  it("starts over when the resource now carries another marker", () => {
    const prior = { leaseId: "leasebbbb0002", handle: "crabbox-x-leasebbbb0002", firstSeenAt: T - 5 * GRACE };
    expect(judge(resource, prior, T, GRACE)).toMatchObject({ verdict: "wait", reason: "first sighting", firstSeenAt: T });
  });

  it("never reclaims within the grace period after the provider's creation time", () => {
    const prior = { ...resource, firstSeenAt: T };
    expect(judge({ ...resource, createdAt: T + GRACE - 60_000 }, prior, T + GRACE, GRACE)).toMatchObject({ verdict: "wait", reason: "created 1m ago, grace 10m" });
    expect(judge({ ...resource, createdAt: T + 2 * GRACE }, prior, T + GRACE, GRACE).reason).toMatch(/in the future/);
  });

  it("a clock that went back only delays a reclaim; a reclaim under way continues", () => {
    expect(judge(resource, { ...resource, firstSeenAt: T + GRACE }, T, GRACE).verdict).toBe("wait");
    expect(judge(resource, { ...resource, firstSeenAt: T, reclaimStartedAt: T }, T + 1, GRACE)).toMatchObject({ verdict: "reclaim", continuing: true });
  });
});

function pagedAdapter(pages: (cursor?: string) => InventoryPage): ProviderAdapter {
  return { ...fakeAdapter, inventory: async (cursor) => pages(cursor) };
}

describe("listOwned", () => {
  it("keeps only markers of this deployment with a lease id it could have minted", async () => {
    const listing = await listOwned(
      pagedAdapter(() => ({
        items: [
          { id: "a", status: "running", marker: { deploymentId: "me", leaseId: "leaseaaaa0001", handle: "h" } },
          { id: "b", status: "running", marker: { deploymentId: "other", leaseId: "leaseaaaa0002", handle: "h" } },
          { id: "c", status: "running", marker: { deploymentId: "me", leaseId: "../../etc", handle: "h" } },
          { id: "d", status: "running" },
        ],
      })),
      "me",
    );
    expect(listing).toMatchObject({ complete: true, seen: 4, foreign: 2, unmarked: 1 });
    expect([...listing.ours.keys()]).toEqual(["a"]);
  });

  it("is incomplete when the cursor does not advance or the pages never end", async () => {
    const stuck = await listOwned(pagedAdapter(() => ({ items: [], next: "same" })), "me");
    expect(stuck).toMatchObject({ complete: false, error: "listing cursor did not advance on page 2" });
    let calls = 0;
    const endless = await listOwned(pagedAdapter(() => ({ items: [], next: String(++calls) })), "me");
    expect(endless).toMatchObject({ complete: false, error: `listing exceeds ${MAX_INVENTORY_PAGES} pages` });
    expect(calls).toBe(MAX_INVENTORY_PAGES);
  });
});
