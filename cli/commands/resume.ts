// `crabbox resume <lease>`: starts a parked lease's machine again, then (like acquire) waits until
// it is ready, connects over SSH with the lease key and acknowledges it.
import { defineCommand, duration, durationMs } from "../core/command";
import { describeEndpoint, followUps } from "../core/format";
import { bringUp, noLocalKey } from "../core/lease-flow";

interface Options {
  timeout: string;
  sshWait: string;
  json?: boolean;
}

export default defineCommand<Options>({
  path: "resume",
  summary: "start a parked lease's machine again and wait until it answers over SSH",
  args: ["<lease>"],
  json: true,
  options: [
    { flags: "--timeout <duration>", description: "how long to wait for the machine", parse: duration, defaultValue: "20m" },
    { flags: "--ssh-wait <duration>", description: "how long to keep trying SSH once it is ready", parse: duration, defaultValue: "30s" },
  ],
  async run(ctx, { args: [idOrSlug = ""], opts }) {
    const client = ctx.client();
    const before = await client.getLease(idOrSlug);
    // Without the lease key nobody could connect, so the resumed machine would only run to its ack deadline.
    if (!ctx.store.hasKeys(before.id)) throw noLocalKey(before);
    const progress = ctx.out.progress();
    progress.update(`Resuming lease ${before.slug}…`);
    try {
      const resumed = await client.resumeLease(before.id);
      const lease = await bringUp(ctx, resumed, progress, { timeoutMs: durationMs(opts.timeout), sshWaitMs: durationMs(opts.sshWait) });
      progress.done(`Lease ${lease.slug} is ${lease.state}.`);
      ctx.out.result(lease, () => [
        `${ctx.out.color.bold(lease.slug)} is back${lease.endpoint ? ` at ${describeEndpoint(lease.endpoint)}` : ""}.`,
        "",
        ...followUps(ctx.out.color, lease.slug),
      ]);
    } catch (error) {
      progress.pause();
      throw error;
    }
  },
});
