// `crabbox admin usage`: every owner's month: spent, reserved, live rate and limits.
import { MonthName } from "../../../src/contract/usage";
import { defineCommand, type OptionDef } from "../../core/command";
import { usageError } from "../../core/errors";
import { money } from "../../core/format";
import { table } from "../../core/output";

/** `--month YYYY-MM`, checked here so a typo is a usage error, not a 400. */
export const monthOption: OptionDef = {
  flags: "--month <YYYY-MM>",
  description: "a calendar month (UTC), e.g. 2026-11; default: this month",
  parse: (value: string) => {
    if (!MonthName.safeParse(value).success) throw usageError(`"${value}" is not a month like 2026-11`);
    return value;
  },
};

interface Options {
  month?: string;
  json?: boolean;
}

export default defineCommand<Options>({
  path: "admin usage",
  summary: "every owner's spend this month (or --month) against their budgets",
  json: true,
  options: [monthOption],
  async run(ctx, { opts }) {
    const usage = await ctx.client().adminUsage(opts.month);
    ctx.out.result(usage, () => {
      if (!usage.owners.length) return `No spend in ${usage.month}.`;
      const limit = (cents: number | null, unit = "") => (cents === null ? "-" : `${money(cents)}${unit}`);
      return table(
        ctx.out.color,
        ["OWNER", "SPENT", "RESERVED", "MONTHLY LIMIT", "LIVE RATE", "RATE LIMIT"],
        usage.owners.map((o) => [o.owner, money(o.spentCents), money(o.reservedCents), limit(o.monthlyLimitCents), `${money(o.liveRateCentsPerHour)}/h`, limit(o.maxRateCentsPerHour, "/h")]),
      );
    });
  },
});
