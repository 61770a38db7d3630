// `crabbox usage`: your month's spend against your budget: spent, still reserved by live leases,
// the limits, and each lease's share.
import { defineCommand } from "../core/command";
import { money } from "../core/format";
import { table } from "../core/output";
import { monthOption } from "./admin/usage";

interface Options {
  month?: string;
  json?: boolean;
}

export default defineCommand<Options>({
  path: "usage",
  summary: "what your leases cost this month (or --month), against your budget",
  json: true,
  options: [monthOption],
  examples: ["crabbox usage", "crabbox usage --month 2026-11 --json"],
  async run(ctx, { opts }) {
    const usage = await ctx.client().usage(opts.month);
    ctx.out.result(usage, () => {
      const limit = usage.monthlyLimitCents === null ? "no monthly limit" : `of ${money(usage.monthlyLimitCents)}`;
      const rate = usage.maxRateCentsPerHour === null ? "" : ` (limit ${money(usage.maxRateCentsPerHour)}/h)`;
      const lines = [
        `${usage.owner}, ${usage.month}: ${money(usage.spentCents)} spent, ${money(usage.reservedCents)} reserved by live leases, ${limit}`,
        `live leases spend ${money(usage.liveRateCentsPerHour)}/h${rate}`,
      ];
      if (usage.leases.length) {
        lines.push("", ...table(ctx.out.color, ["SLUG", "STATE", "PROVIDER", "SPENT", "RESERVED"], usage.leases.map((l) => [l.slug, l.state, l.provider, money(l.spentCents), money(l.reservedCents)])));
      }
      return lines.join("\n");
    });
  },
});
