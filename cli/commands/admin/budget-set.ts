// `crabbox admin budget set <owner>`: an owner's monthly budget and maximum spend rate, in
// dollars; `none` clears the owner's own limit so the deployment's default applies.
import { defineCommand } from "../../core/command";
import { usageError } from "../../core/errors";
import { money } from "../../core/format";

interface Options {
  monthly?: number | "none";
  rate?: number | "none";
  json?: boolean;
}

/** Dollars, or "none" (kept as the word: commander does not keep a parsed null). */
function amount(value: string): number | "none" {
  if (value === "none") return value;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 10_000_000) throw usageError(`"${value}" is not an amount in dollars (or none)`);
  return n;
}

export default defineCommand<Options>({
  path: "admin budget set",
  summary: "set an owner's monthly budget and maximum spend rate (dollars; none: the default)",
  json: true,
  args: ["<owner>"],
  options: [
    { flags: "--monthly <dollars>", description: "most the owner's leases may cost per calendar month", parse: amount },
    { flags: "--rate <dollars>", description: "most the owner's live leases may cost per hour together", parse: amount },
  ],
  examples: ["crabbox admin budget set alice --monthly 500 --rate 20", "crabbox admin budget set ci-bot --monthly none"],
  async run(ctx, { args: [owner = ""], opts }) {
    if (opts.monthly === undefined && opts.rate === undefined) throw usageError("name --monthly and/or --rate");
    const dollars = (v: number | "none" | undefined) => (v === "none" ? null : v);
    const budget = await ctx.client().setBudget(owner, { monthly: dollars(opts.monthly), ratePerHour: dollars(opts.rate) });
    ctx.out.result(budget, () => {
      const monthly = budget.monthlyLimitCents === null ? "no monthly limit" : `${money(budget.monthlyLimitCents)} a month`;
      const rate = budget.maxRateCentsPerHour === null ? "no rate limit" : `${money(budget.maxRateCentsPerHour)}/h across live leases`;
      return `${budget.owner}: ${monthly}, ${rate}`;
    });
  },
});
