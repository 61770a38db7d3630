// `crabbox touch <lease> [--idle 45m]`: marks the lease as used now (restarting its idle timer),
// optionally changing its idle timeout.
import { defineCommand, duration } from "../core/command";

interface Options {
  idle?: string;
  json?: boolean;
}

export default defineCommand<Options>({
  path: "touch",
  summary: "keep a lease alive (restart its idle timer), optionally with a new idle timeout",
  args: ["<lease>"],
  json: true,
  options: [{ flags: "--idle <duration>", description: "new idle timeout from now on, e.g. 45m", parse: duration }],
  async run(ctx, { args: [idOrSlug = ""], opts }) {
    const lease = await ctx.client().touchLease(idOrSlug, { idleTimeout: opts.idle });
    ctx.out.result(lease, () =>
      lease.deadlines.idle ? `Touched ${lease.slug}: idle until ${lease.deadlines.idle}.` : `Touched ${lease.slug} (${lease.state}).`,
    );
  },
});
