// D1 side of leases: atomic admission under the caps, and the index that list, admin and the
// sweep read. The LeaseObject writes here on transitions only; touches never do.

import type { LeaseSummary } from "../contract/lease";
import type { LeaseRecord } from "../lease/record";
import { isTerminal } from "../lease/record";

export interface Caps {
  perOwner: number;
  global: number;
}

export type AdmissionResult = { admitted: true } | { admitted: false; scope: "owner" | "global"; limit: number };

/**
 * Inserts the lease's index row only if both caps still have room, in ONE statement: D1
 * executes statements one at a time, so N concurrent creates can never overshoot the cap.
 * Re-running it for an already admitted lease is a no-op that answers admitted.
 */
export async function admit(db: D1Database, rec: LeaseRecord, caps: Caps, now: number): Promise<AdmissionResult> {
  const result = await db
    .prepare(
      `INSERT INTO leases (id, owner, slug, provider, type, region, state, live, created_at, updated_at, next_deadline_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, 'provisioning', 1, ?7, ?8, ?8
       WHERE NOT EXISTS (SELECT 1 FROM leases WHERE id = ?1)
         AND (SELECT COUNT(*) FROM leases WHERE live = 1 AND owner = ?2) < ?9
         AND (SELECT COUNT(*) FROM leases WHERE live = 1) < ?10`,
    )
    .bind(rec.id, rec.owner, rec.slug, rec.request.provider, rec.request.type ?? null, rec.request.region ?? null, rec.createdAt, now, caps.perOwner, caps.global)
    .run();
  if (result.meta.changes === 1) return { admitted: true };
  const existing = await db.prepare("SELECT 1 FROM leases WHERE id = ?").bind(rec.id).first();
  if (existing) return { admitted: true };
  const owned = await db.prepare("SELECT COUNT(*) AS n FROM leases WHERE live = 1 AND owner = ?").bind(rec.owner).first<{ n: number }>();
  return (owned?.n ?? 0) >= caps.perOwner
    ? { admitted: false, scope: "owner", limit: caps.perOwner }
    : { admitted: false, scope: "global", limit: caps.global };
}

/**
 * Follows the lease's state in the index. `nextDeadlineAt` may only ever be early. An upsert
 * keyed by id, so it cannot miss: a row whose admission insert is still in flight is written
 * here first, and that late insert then finds the id taken and does nothing. Answers whether
 * the row now holds this state (the caller records the sync only then).
 */
export async function syncIndex(db: D1Database, rec: LeaseRecord, nextDeadlineAt: number | undefined, now: number): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO leases (id, owner, slug, provider, type, region, state, live, end_reason, resource_id, created_at, updated_at, next_deadline_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, live = excluded.live, end_reason = excluded.end_reason,
         resource_id = excluded.resource_id, updated_at = excluded.updated_at, next_deadline_at = excluded.next_deadline_at`,
    )
    .bind(
      rec.id,
      rec.owner,
      rec.slug,
      rec.request.provider,
      rec.request.type ?? null,
      rec.request.region ?? null,
      rec.state,
      isTerminal(rec.state) ? 0 : 1,
      rec.endReason ?? null,
      rec.resource?.id ?? null,
      rec.createdAt,
      now,
      nextDeadlineAt ?? null,
    )
    .run();
  return result.meta.changes > 0;
}

interface LeaseRow {
  id: string;
  owner: string;
  slug: string;
  provider: string;
  type: string | null;
  region: string | null;
  state: LeaseSummary["state"];
  end_reason: string | null;
  created_at: number;
  updated_at: number;
}

export interface ListFilter {
  owner?: string;
  state?: string;
  provider?: string;
  live?: boolean;
  limit: number;
  cursor?: string;
}

function encodeCursor(row: LeaseRow): string {
  return btoa(`${row.created_at}:${row.id}`);
}

function decodeCursor(cursor: string): { createdAt: number; id: string } | undefined {
  try {
    const [createdAt, id] = atob(cursor).split(":");
    const n = Number(createdAt);
    return Number.isFinite(n) && id ? { createdAt: n, id } : undefined;
  } catch {
    return undefined; // not base64: the caller answers 400
  }
}

export class BadCursorError extends Error {}

/** Newest first, keyset-paged (stable under inserts, no OFFSET scans). */
export async function listLeases(db: D1Database, filter: ListFilter): Promise<{ leases: LeaseSummary[]; nextCursor?: string }> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.owner !== undefined) where.push(`owner = ?${args.push(filter.owner)}`);
  if (filter.state !== undefined) where.push(`state = ?${args.push(filter.state)}`);
  if (filter.provider !== undefined) where.push(`provider = ?${args.push(filter.provider)}`);
  if (filter.live !== undefined) where.push(`live = ?${args.push(filter.live ? 1 : 0)}`);
  if (filter.cursor !== undefined) {
    const cursor = decodeCursor(filter.cursor);
    if (!cursor) throw new BadCursorError("cursor is not one this API issued");
    const a = args.push(cursor.createdAt);
    const b = args.push(cursor.id);
    where.push(`(created_at < ?${a} OR (created_at = ?${a} AND id < ?${b}))`);
  }
  const sql = `SELECT id, owner, slug, provider, type, region, state, end_reason, created_at, updated_at FROM leases
    ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, id DESC LIMIT ?${args.push(filter.limit + 1)}`;
  const { results } = await db.prepare(sql).bind(...args).all<LeaseRow>();
  const page = results.slice(0, filter.limit);
  return {
    leases: page.map(toSummary),
    nextCursor: results.length > filter.limit ? encodeCursor(page[page.length - 1]!) : undefined,
  };
}

function toSummary(row: LeaseRow): LeaseSummary {
  return {
    id: row.id,
    slug: row.slug,
    owner: row.owner,
    provider: row.provider,
    type: row.type ?? undefined,
    region: row.region ?? undefined,
    state: row.state,
    endReason: row.end_reason ?? undefined,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** Resolves a human slug to the newest lease of that owner carrying it. */
export async function findBySlug(db: D1Database, slug: string, owner?: string): Promise<string | undefined> {
  const row = owner === undefined
    ? await db.prepare("SELECT id FROM leases WHERE slug = ? ORDER BY created_at DESC LIMIT 1").bind(slug).first<{ id: string }>()
    : await db.prepare("SELECT id FROM leases WHERE owner = ? AND slug = ? ORDER BY created_at DESC LIMIT 1").bind(owner, slug).first<{ id: string }>();
  return row?.id;
}

/** Live leases whose recorded next deadline passed more than `slackMs` ago: bounded. */
export async function overdueLeases(db: D1Database, now: number, slackMs: number, limit: number): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT id FROM leases WHERE live = 1 AND next_deadline_at IS NOT NULL AND next_deadline_at < ? ORDER BY next_deadline_at LIMIT ?")
    .bind(now - slackMs, limit)
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/** A create that could not be resolved (fal, after its idempotency window): kept for the operator. */
export async function recordUnresolvedCreate(db: D1Database, rec: LeaseRecord, detail: string, now: number): Promise<void> {
  await db
    .prepare(
      `INSERT INTO unresolved_creates (lease_id, provider, handle, first_attempt_at, recorded_at, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
       ON CONFLICT (lease_id) DO NOTHING`,
    )
    .bind(rec.id, rec.request.provider, rec.handle, rec.unsettled?.since ?? rec.provisionStartedAt ?? rec.createdAt, now, detail.slice(0, 500))
    .run();
}

export interface UnresolvedCreate {
  leaseId: string;
  handle: string;
  firstAttemptAt: number;
  recordedAt: number;
  detail: string;
}

export async function unresolvedCreates(db: D1Database, provider: string, limit: number): Promise<UnresolvedCreate[]> {
  const { results } = await db
    .prepare("SELECT lease_id, handle, first_attempt_at, recorded_at, detail FROM unresolved_creates WHERE provider = ? ORDER BY recorded_at DESC LIMIT ?")
    .bind(provider, limit)
    .all<{ lease_id: string; handle: string; first_attempt_at: number; recorded_at: number; detail: string }>();
  return results.map((r) => ({ leaseId: r.lease_id, handle: r.handle, firstAttemptAt: r.first_attempt_at, recordedAt: r.recorded_at, detail: r.detail }));
}

/** The leases that recorded these resource ids (the ledger of ids learned), for markerless providers. */
export async function leasesOfResources(db: D1Database, provider: string, resourceIds: readonly string[]): Promise<Map<string, { leaseId: string; slug: string }>> {
  const found = new Map<string, { leaseId: string; slug: string }>();
  if (!resourceIds.length) return found;
  const { results } = await db
    .prepare("SELECT resource_id, id, slug FROM leases WHERE provider = ? AND resource_id IN (SELECT value FROM json_each(?))")
    .bind(provider, JSON.stringify(resourceIds))
    .all<{ resource_id: string; id: string; slug: string }>();
  for (const row of results) found.set(row.resource_id, { leaseId: row.id, slug: row.slug });
  return found;
}