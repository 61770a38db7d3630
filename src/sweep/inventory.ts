// Sweep inventory: pages through one provider's listing within fixed bounds and keeps only the
// resources carrying this deployment's marker; foreign and unmarked ones are only counted.

import { LEASE_ID_PATTERN } from "../contract/common";
import type { InventoryItem, ProviderAdapter } from "../providers/types";

/** Pages per provider per run: each page is one subrequest. */
export const MAX_INVENTORY_PAGES = 100;
/** A listing longer than this is treated as incomplete (fail closed) rather than half-swept. */
export const MAX_INVENTORY_ITEMS = 20_000;

export interface OwnedResource {
  id: string;
  leaseId: string;
  handle: string;
  status: string;
  createdAt?: number;
}

export interface Listing {
  /** True only when the provider said the last page was the last one. */
  complete: boolean;
  error?: string;
  seen: number;
  foreign: number;
  unmarked: number;
  /** Ours, by resource id (a resource listed twice across pages counts once). */
  ours: Map<string, OwnedResource>;
  /** Markerless providers: resources no lease of ours recorded (bounded sample for the report). */
  unattributed: { count: number; sample: { id: string; status: string; detail?: string }[] };
}

/**
 * For providers without markers: which listed ids a lease of ours recorded (the lease index is
 * the ledger of ids learned). `dedicated`: the account is ours alone, so the rest count as ours
 * too, under no lease (they still wait two sightings a grace apart).
 */
export interface Attribution {
  lookup(ids: readonly string[]): Promise<Map<string, { leaseId: string; handle: string }>>;
  dedicated: boolean;
}

/** The lease id given to an unattributed resource on a dedicated account: no lease can have it. */
export const NO_LEASE = "-";
const UNATTRIBUTED_SAMPLE = 50;

/** Ours only when the marker names this deployment and a lease id this coordinator could have minted. */
function classify(item: InventoryItem, deploymentId: string): "ours" | "foreign" | "unmarked" {
  if (!item.marker) return "unmarked";
  const { deploymentId: owner, leaseId, handle } = item.marker;
  return owner === deploymentId && LEASE_ID_PATTERN.test(leaseId) && handle.length > 0 ? "ours" : "foreign";
}

/**
 * Memory stays proportional to our own resources: foreign and unmarked items are counted and
 * dropped page by page, so a 10,000-machine shared account costs a few counters, not a copy.
 */
export async function listOwned(adapter: ProviderAdapter, deploymentId: string, attribution?: Attribution): Promise<Listing> {
  const listing: Listing = { complete: false, seen: 0, foreign: 0, unmarked: 0, ours: new Map(), unattributed: { count: 0, sample: [] } };
  let cursor: string | undefined;
  for (let page = 1; page <= MAX_INVENTORY_PAGES; page++) {
    let result;
    try {
      result = await adapter.inventory(cursor);
    } catch (err) {
      return { ...listing, error: `listing failed on page ${page}: ${err instanceof Error ? err.message : String(err)}` };
    }
    const known = attribution ? await attribution.lookup(result.items.map((item) => item.id)) : undefined;
    for (const item of result.items) {
      listing.seen++;
      if (known) {
        attribute(listing, item, known.get(item.id), attribution!.dedicated);
        continue;
      }
      const kind = classify(item, deploymentId);
      if (kind !== "ours") listing[kind]++;
      else listing.ours.set(item.id, { id: item.id, leaseId: item.marker!.leaseId, handle: item.marker!.handle, status: item.status, createdAt: item.createdAt });
    }
    if (listing.seen > MAX_INVENTORY_ITEMS) return { ...listing, error: `listing exceeds ${MAX_INVENTORY_ITEMS} resources` };
    if (result.next === undefined) return { ...listing, complete: true };
    // A provider that hands back the same cursor would loop until the page bound: stop now.
    if (result.next === cursor) return { ...listing, error: `listing cursor did not advance on page ${page}` };
    cursor = result.next;
  }
  return { ...listing, error: `listing exceeds ${MAX_INVENTORY_PAGES} pages` };
}

function attribute(listing: Listing, item: InventoryItem, lease: { leaseId: string; handle: string } | undefined, dedicated: boolean): void {
  const base = { id: item.id, status: item.status, createdAt: item.createdAt };
  if (lease) {
    listing.ours.set(item.id, { ...base, ...lease });
    return;
  }
  listing.unattributed.count++;
  if (listing.unattributed.sample.length < UNATTRIBUTED_SAMPLE) listing.unattributed.sample.push({ id: item.id, status: item.status, detail: item.detail });
  if (dedicated) listing.ours.set(item.id, { ...base, leaseId: NO_LEASE, handle: "" });
}
