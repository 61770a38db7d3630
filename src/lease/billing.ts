// What a lease costs, as pure arithmetic over its record: a machine bills at its price from the
// moment its create is known to have made it until it is confirmed gone, at its storage rate
// while parked (when a stopped machine still bills), and nothing otherwise. Closed stretches are
// kept per calendar month (UTC), so a lease that crosses a month boundary charges each month
// its own share; the open stretch is priced on read.

import type { LeaseRecord } from "./record";

const HOUR_MS = 3_600_000;

export interface Billing {
  /** Cents per hour of the open stretch (0: not billing). */
  rateCentsPerHour: number;
  /** When the open stretch began. */
  since: number;
  /** Cents of the closed stretches, by month "YYYY-MM". Fractions kept; rounded on display. */
  byMonth: Record<string, number>;
}

/** "YYYY-MM" of a time, in UTC. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** [start, end) of the month "YYYY-MM" in ms, UTC. */
export function monthBounds(month: string): [number, number] {
  const [y, m] = month.split("-").map(Number) as [number, number];
  return [Date.UTC(y, m - 1, 1), Date.UTC(y, m, 1)];
}

/** Cents of `rate` over [from, to), split at month boundaries. */
export function splitByMonth(from: number, to: number, rateCentsPerHour: number): Record<string, number> {
  const out: Record<string, number> = {};
  if (!(to > from) || rateCentsPerHour <= 0) return out;
  for (let at = from; at < to; ) {
    const month = monthOf(at);
    const end = Math.min(to, monthBounds(month)[1]);
    out[month] = (out[month] ?? 0) + ((end - at) * rateCentsPerHour) / HOUR_MS;
    at = end;
  }
  return out;
}

/**
 * The rate this record bills at: its price while it may hold a running machine (from the moment a
 * resource is known until the lease ends), its storage rate while parked.
 */
export function billingRate(rec: LeaseRecord): number {
  if (!rec.resource || !rec.price) return 0;
  switch (rec.state) {
    case "released":
    case "failed":
    case "requested":
      return 0;
    case "parked":
      return rec.price.storageCentsPerHour ?? 0;
    default:
      return rec.price.centsPerHour;
  }
}

/** Closes the open stretch at `now` when the rate changes between `prev` and `next`. */
export function rebill(prev: LeaseRecord, next: LeaseRecord, now: number): LeaseRecord {
  const rate = billingRate(next);
  const open = prev.billing;
  if (open && open.rateCentsPerHour === rate) return next.billing === open ? next : { ...next, billing: open };
  if (!open && rate === 0) return next;
  const byMonth = { ...(open?.byMonth ?? {}) };
  if (open) for (const [month, cents] of Object.entries(splitByMonth(open.since, now, open.rateCentsPerHour))) byMonth[month] = (byMonth[month] ?? 0) + cents;
  return { ...next, billing: { rateCentsPerHour: rate, since: now, byMonth } };
}

/** Cents spent so far, by month: the closed stretches plus the open one up to `now`. */
export function spentByMonth(rec: LeaseRecord, now: number): Record<string, number> {
  const b = rec.billing;
  if (!b) return {};
  const out = { ...b.byMonth };
  for (const [month, cents] of Object.entries(splitByMonth(b.since, now, b.rateCentsPerHour))) out[month] = (out[month] ?? 0) + cents;
  return out;
}

export function costCents(rec: LeaseRecord, now: number): number {
  return Math.round(Object.values(spentByMonth(rec, now)).reduce((a, b) => a + b, 0));
}

/**
 * The end of the window admission reserves for: the TTL for a lease that may run, the retention
 * for a parked one. Past it the lease ends (or parks) by itself.
 */
export function reservedUntil(rec: LeaseRecord): number {
  if (rec.state === "parked" && rec.retainUntil !== undefined) return rec.retainUntil;
  return rec.createdAt + rec.request.ttlMs;
}
