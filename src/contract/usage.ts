// Wire schemas of spend: an owner's month (what its leases cost and still reserve, against its
// budget), every owner's month for admins, and the budget admins set. Money is US cents.

import * as z from "zod/mini";
import { LeaseId } from "./common";
import { LeaseState } from "./lease";

export const MonthName = z.string().check(z.regex(/^\d{4}-(0[1-9]|1[0-2])$/));

export const UsageQuery = z.object({ month: z.optional(MonthName) });

const Limits = {
  /** The owner's monthly limit (theirs, else the deployment's default); null: none. */
  monthlyLimitCents: z.nullable(z.number()),
  /** Most the owner's live leases may cost per hour together; null: no limit. */
  maxRateCentsPerHour: z.nullable(z.number()),
};

const Totals = {
  /** Cents the month has cost so far (ended leases exactly, live ones up to now). */
  spentCents: z.number(),
  /** Cents the owner's live leases may still cost this month (their rate until their TTL). */
  reservedCents: z.number(),
  /** What the owner's live leases hold per hour right now. */
  liveRateCentsPerHour: z.number(),
  ...Limits,
};

export const LeaseUsage = z.object({ id: LeaseId, slug: z.string(), provider: z.string(), state: LeaseState, spentCents: z.number(), reservedCents: z.number() });

export const Usage = z.object({ owner: z.string(), month: MonthName, ...Totals, leases: z.array(LeaseUsage) });
export type Usage = z.infer<typeof Usage>;

export const OwnerUsage = z.object({ owner: z.string(), ...Totals });
export const AdminUsage = z.object({ month: MonthName, owners: z.array(OwnerUsage) });
export type AdminUsage = z.infer<typeof AdminUsage>;

const Dollars = z.nullable(z.number().check(z.gte(0), z.lte(10_000_000)));

/** Dollars, as people say budgets; null clears the owner's own limit (the default applies). */
export const SetBudgetRequest = z.strictObject({ monthly: z.optional(Dollars), ratePerHour: z.optional(Dollars) });

export const Budget = z.object({ owner: z.string(), ...Limits, own: z.object({ monthlyLimitCents: z.nullable(z.number()), maxRateCentsPerHour: z.nullable(z.number()) }) });
export type Budget = z.infer<typeof Budget>;
