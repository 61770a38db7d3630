// Pure rules of a provider's line for capacity: who is served first (first come, first served,
// by when the lease started waiting) and which of an entry's acceptable types the provider
// shows capacity for.

import type { CatalogEntry } from "../providers/types";

export interface LineEntry {
  leaseId: string;
  /** Acceptable types in the lease's order of preference. */
  types: string[];
  region?: string;
  /** When the lease started waiting: its place in line, kept across turns that found nothing. */
  since: number;
  /** When it gives up (the lease fails with capacity_timeout then). */
  until: number;
}

export function inOrder(entries: readonly LineEntry[]): LineEntry[] {
  return [...entries].sort((a, b) => a.since - b.since || a.leaseId.localeCompare(b.leaseId));
}

/**
 * Whether the catalog shows capacity for `type` (in `region`, when the lease named one). A
 * provider that reports nothing about capacity (`available` absent, no regions) may have some:
 * the only way to know is to try.
 */
export function hasCapacity(catalog: readonly CatalogEntry[], type: string, region?: string): boolean {
  const entry = catalog.find((e) => e.type === type);
  if (!entry || entry.available === false) return false;
  if (region && entry.regions.length && !entry.regions.includes(region)) return false;
  return true;
}

/** The first acceptable type with capacity that no earlier turn this round found exhausted. */
export function typeToOffer(entry: LineEntry, catalog: readonly CatalogEntry[], exhausted: ReadonlySet<string>): string | undefined {
  return entry.types.find((type) => !exhausted.has(type) && hasCapacity(catalog, type, entry.region));
}
