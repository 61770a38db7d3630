// D1 side of leases: atomic admission under the caps, and the index that list, admin and the
// sweep read. The LeaseObject writes here on transitions only; touches never do.

import type { LeaseSummary } from "../contract/lease";
import type { LeaseRecord } from "../lease/record";
import { isTerminal } from "../lease/record";
import { reservedUntil } from "../lease/billing";

export interface Caps {
  perOwner: number;
  global: number;
}

/** Deployment-wide budget defaults (cents); null: no limit unless the owner has one. */
export interface BudgetDefaults {
  monthlyLimitCents: number | null;
  maxRateCentsPerHour: number | null;
}

export type AdmissionResult =
  | { admitted: true }
  | { admitted: false; scope: "owner" | "global"; limit: number }
  | { admitted: false; scope: "budget"; detail: string };

const HOUR_MS = 3_600_000;
const NO_LIMIT = 9e18;

/**
 * The cents an owner has committed in the month [?13, ?14) named ?15: what its leases cost there
 * so far (spend rows) plus what its live leases may still cost there (their rate over the rest
 * of their reserved window). Shared by admission and usage, so both count the same way.
 */
const COMMITTED = `((SELECT COALESCE(SUM(cents), 0) FROM spend WHERE owner = ?2 AND month = ?15)
  + (SELECT COALESCE(SUM(rate_cents_per_hour * MAX(0, MIN(reserved_until, ?14) - MAX(COALESCE(accrued_until, created_at), ?13))), 0) / ${HOUR_MS}.0
     FROM leases WHERE live = 1 AND owner = ?2))`;
const LIVE_RATE = "(SELECT COALESCE(SUM(rate_cents_per_hour), 0) FROM leases WHERE live = 1 AND owner = ?2)";
const MONTHLY_LIMIT = `COALESCE((SELECT monthly_limit_cents FROM budgets WHERE owner = ?2), ?16, ${NO_LIMIT})`;
const RATE_LIMIT = `COALESCE((SELECT max_rate_cents_per_hour FROM budgets WHERE owner = ?2), ?17, ${NO_LIMIT})`;

export interface Month {
  name: string;
  start: number;
  end: number;
}

/** The month (UTC) a time falls in. */
export function monthAt(ms: number): Month {
  const d = new Date(ms);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return { name: new Date(start).toISOString().slice(0, 7), start, end };
}

/** Admission's input for a lease from the coordinator's configuration. */
export function admissionInput(config: { maxLeasesPerOwner: number; maxLeasesGlobal: number; budget: BudgetDefaults }, rec: LeaseRecord, now: number): AdmissionInput {
  return { caps: { perOwner: config.maxLeasesPerOwner, global: config.maxLeasesGlobal }, budget: config.budget, priceCentsPerHour: rec.price?.centsPerHour ?? 0, month: monthAt(now) };
}

export interface AdmissionInput {
  caps: Caps;
  budget: BudgetDefaults;
  /** What the lease reserves per hour (0: no price, reserves nothing). */
  priceCentsPerHour: number;
  /** The month the lease is admitted in. */
  month: Month;
}

/**
 * Inserts the lease's index row only if both caps still have room and the owner's budget takes
 * the lease's reservation (its price over its TTL, capped at the month's end; and its price on
 * top of the live leases' rates), in ONE statement: D1 executes statements one at a time, so N
 * concurrent creates can never overshoot. Re-running it for an already admitted lease is a
 * no-op that answers admitted.
 */
export async function admit(db: D1Database, rec: LeaseRecord, input: AdmissionInput, now: number): Promise<AdmissionResult> {
  const { caps, budget, priceCentsPerHour: price, month } = input;
  const until = rec.createdAt + rec.request.ttlMs;
  const result = await db
    .prepare(
      `INSERT INTO leases (id, owner, slug, provider, type, region, state, live, created_at, updated_at, next_deadline_at,
                           rate_cents_per_hour, accrued_until, reserved_until, price_cents_per_hour)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, 'provisioning', 1, ?7, ?8, ?8, ?11, ?8, ?12, ?11
       WHERE NOT EXISTS (SELECT 1 FROM leases WHERE id = ?1)
         AND (SELECT COUNT(*) FROM leases WHERE live = 1 AND owner = ?2) < ?9
         AND (SELECT COUNT(*) FROM leases WHERE live = 1) < ?10
         AND (?11 = 0 OR (
           ${COMMITTED} + ?11 * MAX(0, MIN(?12, ?14) - ?8) / ${HOUR_MS}.0 <= ${MONTHLY_LIMIT}
           AND ${LIVE_RATE} + ?11 <= ${RATE_LIMIT}))`,
    )
    .bind(rec.id, rec.owner, rec.slug, rec.request.provider, rec.request.type ?? null, rec.request.region ?? null, rec.createdAt, now, caps.perOwner, caps.global,
      price, until, month.start, month.end, month.name, budget.monthlyLimitCents, budget.maxRateCentsPerHour)
    .run();
  if (result.meta.changes === 1) return { admitted: true };
  const existing = await db.prepare("SELECT 1 FROM leases WHERE id = ?").bind(rec.id).first();
  if (existing) return { admitted: true };
  const counts = await db
    .prepare("SELECT (SELECT COUNT(*) FROM leases WHERE live = 1 AND owner = ?1) AS owned, (SELECT COUNT(*) FROM leases WHERE live = 1) AS total")
    .bind(rec.owner)
    .first<{ owned: number; total: number }>();
  if ((counts?.owned ?? 0) >= caps.perOwner) return { admitted: false, scope: "owner", limit: caps.perOwner };
  if ((counts?.total ?? 0) >= caps.global) return { admitted: false, scope: "global", limit: caps.global };
  const state = await budgetState(db, rec.owner, month, budget);
  const reservation = (price * Math.max(0, Math.min(until, month.end) - now)) / HOUR_MS;
  const detail =
    state.monthlyLimitCents !== null && state.committedCents + reservation > state.monthlyLimitCents
      ? `this lease reserves ${dollars(reservation)} (${dollars(price)}/h until its TTL or the month's end); ${month.name} already has ${dollars(state.committedCents)} of your ${dollars(state.monthlyLimitCents)} committed`
      : `this lease adds ${dollars(price)}/h to the ${dollars(state.liveRateCentsPerHour)}/h your live leases hold; your limit is ${dollars(state.maxRateCentsPerHour ?? 0)}/h`;
  return { admitted: false, scope: "budget", detail };
}

export const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;

export interface BudgetState {
  committedCents: number;
  liveRateCentsPerHour: number;
  monthlyLimitCents: number | null;
  maxRateCentsPerHour: number | null;
}

/** The owner's month as admission sees it (the same expressions). */
export async function budgetState(db: D1Database, owner: string, month: Month, defaults: BudgetDefaults): Promise<BudgetState> {
  const row = await db
    .prepare(`SELECT ${COMMITTED} AS committed, ${LIVE_RATE} AS rate, ${MONTHLY_LIMIT} AS monthly, ${RATE_LIMIT} AS max_rate`)
    .bind(null, owner, null, null, null, null, null, null, null, null, null, null, month.start, month.end, month.name, defaults.monthlyLimitCents, defaults.maxRateCentsPerHour)
    .first<{ committed: number; rate: number; monthly: number; max_rate: number }>();
  const limit = (v: number | undefined) => (v === undefined || v >= NO_LIMIT ? null : v);
  return { committedCents: row?.committed ?? 0, liveRateCentsPerHour: row?.rate ?? 0, monthlyLimitCents: limit(row?.monthly), maxRateCentsPerHour: limit(row?.max_rate) };
}

/**
 * Follows the lease's state in the index. `nextDeadlineAt` may only ever be early. An upsert
 * keyed by id, so it cannot miss: a row whose admission insert is still in flight is written
 * here first, and that late insert then finds the id taken and does nothing. Answers whether
 * the row now holds this state (the caller records the sync only then). The lease's spend rows
 * (its closed stretches, per month) and its reservation go in the same batch.
 */
export async function syncIndex(db: D1Database, rec: LeaseRecord, nextDeadlineAt: number | undefined, now: number): Promise<boolean> {
  const spend = Object.entries(rec.billing?.byMonth ?? {}).map(([month, cents]) =>
    db
      .prepare("INSERT INTO spend (lease_id, owner, month, cents) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (lease_id, month) DO UPDATE SET cents = excluded.cents")
      .bind(rec.id, rec.owner, month, cents),
  );
  const index = db
    .prepare(
      `INSERT INTO leases (id, owner, slug, provider, type, region, state, live, end_reason, resource_id, created_at, updated_at, next_deadline_at,
                           rate_cents_per_hour, accrued_until, reserved_until, price_cents_per_hour)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, live = excluded.live, end_reason = excluded.end_reason,
         resource_id = excluded.resource_id, updated_at = excluded.updated_at, next_deadline_at = excluded.next_deadline_at,
         rate_cents_per_hour = excluded.rate_cents_per_hour, accrued_until = excluded.accrued_until,
         reserved_until = excluded.reserved_until, price_cents_per_hour = excluded.price_cents_per_hour`,
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
      reservationRate(rec),
      rec.billing?.since ?? rec.createdAt,
      reservedUntil(rec),
      rec.price?.centsPerHour ?? null,
    );
  const results = await db.batch([...spend, index]);
  return (results.at(-1)?.meta.changes ?? 0) > 0;
}

/**
 * What a live lease holds against its owner's budget per hour: its price until it ends (a lease
 * still waiting for its machine reserves it too), its storage rate while parked.
 */
function reservationRate(rec: LeaseRecord): number {
  if (isTerminal(rec.state)) return 0;
  if (rec.state === "parked") return rec.price?.storageCentsPerHour ?? 0;
  return rec.price?.centsPerHour ?? 0;
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
  price_cents_per_hour: number | null;
  spent: number;
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
  // Spent: the closed stretches, plus the open one up to now. The open stretch bills at the
  // machine's rate only once it exists (resource_id); before that the rate is a reservation.
  const spent = `(SELECT COALESCE(SUM(cents), 0) FROM spend WHERE lease_id = leases.id)
    + CASE WHEN live = 1 AND resource_id IS NOT NULL THEN rate_cents_per_hour * MAX(0, ?${args.push(Date.now())} - COALESCE(accrued_until, created_at)) / ${HOUR_MS}.0 ELSE 0 END`;
  const sql = `SELECT id, owner, slug, provider, type, region, state, end_reason, created_at, updated_at, price_cents_per_hour, ${spent} AS spent FROM leases
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
    priceCentsPerHour: row.price_cents_per_hour ?? undefined,
    costCents: Math.round(row.spent),
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
/** Whether each of these leases is live, by id; an id the index does not hold is absent. */
export async function leaseLiveness(db: D1Database, leaseIds: readonly string[]): Promise<Map<string, boolean>> {
  const found = new Map<string, boolean>();
  if (!leaseIds.length) return found;
  const { results } = await db
    .prepare("SELECT id, live FROM leases WHERE id IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify(leaseIds))
    .all<{ id: string; live: number }>();
  for (const row of results) found.set(row.id, row.live === 1);
  return found;
}
