// `crabbox acquire`: mints the lease id and key pair, creates the lease, waits until it is ready,
// connects over SSH with the lease key and only then acknowledges it. Ctrl-C releases it.
import { formatDuration } from "../../src/contract/common";
import type { Lease } from "../../src/contract/lease";
import { type Context, defineCommand, dollars, duration, durationMs } from "../core/command";
import { CliError } from "../core/errors";
import { describeEndpoint, describeMachine, followUps } from "../core/format";
import { mintLeaseId } from "../core/keys";
import { abandon, bringUp, warnIfStopBills } from "../core/lease-flow";
import type { Progress } from "../core/output";
import { TERMINAL_STATES } from "../core/wait";

interface Options {
  provider: string;
  type?: string;
  region?: string;
  image?: string;
  ttl?: string;
  idle?: string;
  releaseAction?: "destroy" | "stop";
  maxPrice?: number;
  timeout: string;
  sshWait: string;
  json?: boolean;
}

export default defineCommand<Options>({
  path: "acquire",
  summary: "lease a machine, wait until it answers over SSH, and print how to use it",
  json: true,
  options: [
    { flags: "--provider <name>", description: "provider to lease from (see `crabbox providers`)", required: true },
    { flags: "--type <type>", description: "machine type (see `crabbox catalog --provider <name>`)" },
    { flags: "--region <region>", description: "region" },
    { flags: "--image <image>", description: "image, where the provider takes one" },
    { flags: "--ttl <duration>", description: "hard end of the lease, e.g. 2h (server default when omitted)", parse: duration },
    { flags: "--idle <duration>", description: "release after this long without use, e.g. 30m", parse: duration },
    { flags: "--release-action <action>", description: "what release does to the machine", choices: ["destroy", "stop"] },
    { flags: "--max-price <dollars>", description: "most the machine may cost per hour, in $ (marketplaces such as vast)", parse: dollars },
    { flags: "--timeout <duration>", description: "how long to wait for the machine", parse: duration, defaultValue: "20m" },
    { flags: "--ssh-wait <duration>", description: "how long to keep trying SSH once it is ready", parse: duration, defaultValue: "30s" },
  ],
  examples: [
    "crabbox acquire --provider lambda --type gpu_1x_a10 --ttl 4h",
    "crabbox acquire --provider vast --type 1x_RTX_4090 --max-price 0.5",
    "crabbox acquire --provider coder --json",
  ],
  async run(ctx, { opts }) {
    const client = ctx.client();
    const id = mintLeaseId();
    const sshPublicKey = ctx.store.createKeys(id);
    const progress = ctx.out.progress();
    let lease: Lease;
    try {
      progress.update(`Requesting a ${opts.provider} machine…`);
      const created = await client.createLease({
        id,
        provider: opts.provider,
        type: opts.type,
        region: opts.region,
        image: opts.image,
        sshPublicKey,
        ttl: opts.ttl,
        idleTimeout: opts.idle,
        releaseAction: opts.releaseAction,
        maxPricePerHour: opts.maxPrice,
      });
      ctx.store.saveRecord(created.data);
      if (created.data.releaseAction === "stop") await warnIfStopBills(ctx, created.data.provider);
      lease = await bringUp(ctx, created.data, progress, { timeoutMs: durationMs(opts.timeout), sshWaitMs: durationMs(opts.sshWait) });
      progress.done(`Lease ${lease.slug} is ${lease.state}.`);
    } catch (error) {
      progress.pause();
      await giveUp(ctx, id, error, progress);
      throw error;
    }
    ctx.out.result(lease, () => {
      const { color } = ctx.out;
      const lines = [`${color.bold(lease.slug)}: ${describeMachine(lease)}`];
      if (lease.endpoint) lines.push(`  endpoint  ${describeEndpoint(lease.endpoint)}`);
      if (lease.deadlines.idle) lines.push(`  idle      released after ${formatDuration(lease.idleTimeoutSeconds * 1000)} without use`);
      if (lease.deadlines.ttl) lines.push(`  ends      ${lease.deadlines.ttl} at the latest`);
      return [...lines, "", ...followUps(color, lease.slug)];
    });
  },
});

/**
 * Cleans up after a failed acquire: a lease the server ended, or a create it refused outright, needs
 * only its local keys removed; anything else (Ctrl-C, timeout, SSH failure, lost answer) is released.
 */
async function giveUp(ctx: Context, id: string, error: unknown, progress: Progress): Promise<void> {
  const lease = error instanceof CliError ? (error.details?.lease as Lease | undefined) : undefined;
  const status = error instanceof CliError ? error.details?.status : undefined;
  const refused = typeof status === "number" && status < 500 && !ctx.store.readRecord(id);
  if ((lease && TERMINAL_STATES.includes(lease.state)) || refused) {
    ctx.store.remove(id);
    return;
  }
  await abandon(ctx, id, progress);
}
