// `crabbox release <lease>`: ends the lease (destroy or stop), waits for the coordinator to confirm,
// and removes the lease's local keys once it is released or failed. Already ended: exit 0, says so.
import type { Lease } from "../../src/contract/lease";
import { type Context, defineCommand, duration, durationMs } from "../core/command";
import { CliError, EXIT } from "../core/errors";
import { TERMINAL_STATES, waitForState } from "../core/wait";
import { warnIfStopBills } from "../core/lease-flow";

interface Options {
  action?: "destroy" | "stop";
  wait: boolean;
  timeout: string;
  admin?: boolean;
  json?: boolean;
}

export default defineCommand<Options>({
  path: "release",
  summary: "give a lease back: destroy (or stop) its machine",
  args: ["<lease>"],
  json: true,
  options: [
    { flags: "--action <action>", description: "override the lease's release action", choices: ["destroy", "stop"] },
    { flags: "--no-wait", description: "return once the release is requested" },
    { flags: "--timeout <duration>", description: "how long to wait for the release to finish", parse: duration, defaultValue: "5m" },
    { flags: "--admin", description: "release another owner's lease by id (admin)" },
  ],
  async run(ctx, { args: [idOrSlug = ""], opts }) {
    const client = ctx.client();
    if (opts.admin) {
      const lease = await client.adminReleaseLease(idOrSlug, { action: opts.action });
      return report(ctx, await settle(ctx, lease, opts), false);
    }
    const before = await client.getLease(idOrSlug);
    if (TERMINAL_STATES.includes(before.state)) return report(ctx, before, true);
    const lease = await client.releaseLease(before.id, { action: opts.action });
    if ((opts.action ?? lease.releaseAction) === "stop") await warnIfStopBills(ctx, lease.provider);
    return report(ctx, await settle(ctx, lease, opts), false);
  },
});

async function settle(ctx: Context, lease: Lease, opts: Options): Promise<Lease> {
  if (!opts.wait || TERMINAL_STATES.includes(lease.state) || lease.state === "parked") return lease;
  const progress = ctx.out.progress();
  try {
    const wanted = (opts.action ?? lease.releaseAction) === "stop" ? "parked" : "released";
    const settled = await waitForState(ctx.client(), lease.id, wanted, {
      timeoutMs: durationMs(opts.timeout),
      onUpdate: (update) => progress.update(`Lease ${update.slug} is ${update.state}…`),
    });
    progress.pause();
    return settled;
  } catch (error) {
    progress.pause();
    if (error instanceof CliError && error.code === "timeout") {
      throw new CliError(`release of ${lease.slug} requested but not confirmed yet; the coordinator keeps at it (\`crabbox status ${lease.slug}\`)`, {
        code: "timeout",
        exitCode: EXIT.timeout,
        details: error.details,
      });
    }
    throw error;
  }
}

function report(ctx: Context, lease: Lease, alreadyEnded: boolean): number {
  const removed = TERMINAL_STATES.includes(lease.state) && ctx.store.remove(lease.id);
  ctx.out.result(lease, () => {
    const why = lease.endReason ? ` (${lease.endReason})` : "";
    const keys = removed ? "; its local keys are removed" : "";
    if (alreadyEnded) return `Lease ${lease.slug} had already ended: ${lease.state}${why}${keys}.`;
    if (lease.state === "parked") return `Lease ${lease.slug} is parked (machine stopped); \`crabbox resume ${lease.slug}\` brings it back.`;
    if (TERMINAL_STATES.includes(lease.state)) return `Lease ${lease.slug} is ${lease.state}${why}${keys}.`;
    return `Release of ${lease.slug} requested (${lease.state}); \`crabbox status ${lease.slug} --wait released\` follows it.`;
  });
  return EXIT.ok;
}
