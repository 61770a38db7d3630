// D1 side of spend: an owner's month (spent and still reserved, per lease), every owner's month
// for admins, and the per-owner budgets. Counting matches admission's (ledger/leases.ts).

import type { LeaseState } from "../contract/lease";
import { budgetState, monthAt, type BudgetDefaults, type Month } from "./leases";

const HOUR_MS = 3_600_000;

/** "YYYY-MM" → its bounds (UTC). */
export function monthNamed(name: string): Month {
  const [y, m] = name.split("-").map(Number) as [number, number];
  return monthAt(Date.UTC(y, m - 1, 1));
}

/**
 * Per lease of the owner (or every owner): cost in the month so far — spend rows, plus the open
 * stretch of a live lease that has its machine — and what it still reserves there.
 */
const PER_LEASE = `SELECT l.id, l.slug, l.owner, l.provider, l.state,
    COALESCE((SELECT cents FROM spend s WHERE s.lease_id = l.id AND s.month = ?3), 0)
      + CASE WHEN l.live = 1 AND l.resource_id IS NOT NULL
          THEN l.rate_cents_per_hour * MAX(0, MIN(?4, ?2) - MAX(COALESCE(l.accrued_until, l.created_at), ?1)) / ${HOUR_MS}.0 ELSE 0 END AS spent,
    CASE WHEN l.live = 1
      THEN l.rate_cents_per_hour * MAX(0, MIN(l.reserved_until, ?2) - MAX(?4, COALESCE(l.accrued_until, l.created_at), ?1)) / ${HOUR_MS}.0 ELSE 0 END AS reserved,
    CASE WHEN l.live = 1 THEN l.rate_cents_per_hour ELSE 0 END AS rate
  FROM leases l
  WHERE (?5 IS NULL OR l.owner = ?5)
    AND (l.live = 1 OR l.id IN (SELECT lease_id FROM spend WHERE month = ?3 AND (?5 IS NULL OR owner = ?5)))`;

interface Row {
  id: string;
  slug: string;
  owner: string;
  provider: string;
  state: LeaseState;
  spent: number;
  reserved: number;
  rate: number;
}

async function perLease(db: D1Database, month: Month, now: number, owner: string | null): Promise<Row[]> {
  const { results } = await db.prepare(`${PER_LEASE} ORDER BY l.created_at DESC`).bind(month.start, month.end, month.name, now, owner).all<Row>();
  return results;
}

const cents = (n: number) => Math.round(n);

export async function ownerUsage(db: D1Database, owner: string, month: Month, now: number, defaults: BudgetDefaults) {
  const [rows, state] = await Promise.all([perLease(db, month, now, owner), budgetState(db, owner, month, defaults)]);
  return {
    owner,
    month: month.name,
    spentCents: cents(rows.reduce((a, r) => a + r.spent, 0)),
    reservedCents: cents(rows.reduce((a, r) => a + r.reserved, 0)),
    liveRateCentsPerHour: cents(state.liveRateCentsPerHour),
    monthlyLimitCents: state.monthlyLimitCents,
    maxRateCentsPerHour: state.maxRateCentsPerHour,
    leases: rows.map((r) => ({ id: r.id, slug: r.slug, provider: r.provider, state: r.state, spentCents: cents(r.spent), reservedCents: cents(r.reserved) })),
  };
}

export async function everyOwnerUsage(db: D1Database, month: Month, now: number, defaults: BudgetDefaults) {
  const rows = await perLease(db, month, now, null);
  const { results: budgets } = await db.prepare("SELECT owner, monthly_limit_cents, max_rate_cents_per_hour FROM budgets").all<{ owner: string; monthly_limit_cents: number | null; max_rate_cents_per_hour: number | null }>();
  const own = new Map(budgets.map((b) => [b.owner, b]));
  const owners = new Map<string, { spent: number; reserved: number; rate: number }>();
  for (const r of rows) {
    const o = owners.get(r.owner) ?? { spent: 0, reserved: 0, rate: 0 };
    owners.set(r.owner, { spent: o.spent + r.spent, reserved: o.reserved + r.reserved, rate: o.rate + r.rate });
  }
  for (const b of budgets) if (!owners.has(b.owner)) owners.set(b.owner, { spent: 0, reserved: 0, rate: 0 });
  return {
    month: month.name,
    owners: [...owners.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([owner, t]) => ({
        owner,
        spentCents: cents(t.spent),
        reservedCents: cents(t.reserved),
        liveRateCentsPerHour: cents(t.rate),
        monthlyLimitCents: own.get(owner)?.monthly_limit_cents ?? defaults.monthlyLimitCents,
        maxRateCentsPerHour: own.get(owner)?.max_rate_cents_per_hour ?? defaults.maxRateCentsPerHour,
      })),
  };
}

/** Sets what the request names (undefined keeps, null clears the owner's own limit). */
export async function setBudget(db: D1Database, owner: string, change: { monthlyLimitCents?: number | null; maxRateCentsPerHour?: number | null }, now: number, defaults: BudgetDefaults) {
  const keep = (v: number | null | undefined) => (v === undefined ? 1 : 0);
  await db
    .prepare(
      `INSERT INTO budgets (owner, monthly_limit_cents, max_rate_cents_per_hour, updated_at) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (owner) DO UPDATE SET
         monthly_limit_cents = CASE WHEN ?5 = 1 THEN budgets.monthly_limit_cents ELSE excluded.monthly_limit_cents END,
         max_rate_cents_per_hour = CASE WHEN ?6 = 1 THEN budgets.max_rate_cents_per_hour ELSE excluded.max_rate_cents_per_hour END,
         updated_at = excluded.updated_at`,
    )
    .bind(owner, change.monthlyLimitCents ?? null, change.maxRateCentsPerHour ?? null, now, keep(change.monthlyLimitCents), keep(change.maxRateCentsPerHour))
    .run();
  const row = await db.prepare("SELECT monthly_limit_cents, max_rate_cents_per_hour FROM budgets WHERE owner = ?").bind(owner).first<{ monthly_limit_cents: number | null; max_rate_cents_per_hour: number | null }>();
  const own = { monthlyLimitCents: row?.monthly_limit_cents ?? null, maxRateCentsPerHour: row?.max_rate_cents_per_hour ?? null };
  return { owner, monthlyLimitCents: own.monthlyLimitCents ?? defaults.monthlyLimitCents, maxRateCentsPerHour: own.maxRateCentsPerHour ?? defaults.maxRateCentsPerHour, own };
}
