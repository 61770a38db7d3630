// `crabbox admin sweeps`: the recent sweep runs (cron and admin), newest first, with decisions.
import { defineCommand } from "../../core/command";
import { usageError } from "../../core/errors";
import { sweepLines } from "../../core/format-sweep";

interface Options {
  limit?: string;
  json?: boolean;
}

export default defineCommand<Options>({
  path: "admin sweeps",
  summary: "show recent sweep runs and their decisions",
  json: true,
  options: [{ flags: "--limit <count>", description: "how many runs (1-100, server default 20)" }],
  async run(ctx, { opts }) {
    if (opts.limit !== undefined && !/^([1-9][0-9]?|100)$/.test(opts.limit)) throw usageError("--limit takes a number from 1 to 100");
    const answer = await ctx.client().listSweeps({ limit: opts.limit });
    ctx.out.result(answer, () =>
      answer.sweeps.length ? answer.sweeps.flatMap((run, index) => [...(index ? [""] : []), ...sweepLines(ctx.out.color, run)]) : "No sweep has run yet.",
    );
  },
});
