// `crabbox admin sweep [--dry-run]`: runs the coordinator's orphan sweep now and shows its
// decision for every candidate machine (dry run: decides, changes nothing).
import { defineCommand } from "../../core/command";
import { sweepLines } from "../../core/format-sweep";

interface Options {
  dryRun?: boolean;
  provider?: string[];
  json?: boolean;
}

export default defineCommand<Options>({
  path: "admin sweep",
  summary: "run the orphan sweep now (--dry-run: decide and report, change nothing)",
  json: true,
  options: [
    { flags: "--dry-run", description: "decide and report, but release nothing" },
    { flags: "--provider <names...>", description: "sweep only these providers (default: every configured one)" },
  ],
  async run(ctx, { opts }) {
    const run = await ctx.client().runSweep({ dryRun: Boolean(opts.dryRun), providers: opts.provider });
    ctx.out.result(run, () => sweepLines(ctx.out.color, run));
  },
});
