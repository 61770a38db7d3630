// `crabbox acquire`: mints the lease id and key pair, creates the lease, waits until it is ready,
// connects over SSH with the lease key and only then acknowledges it. Ctrl-C releases it.
import { formatDuration } from "../../src/contract/common";
import { defineCommand, durationMs } from "../core/command";
import { describeEndpoint, describeMachine, followUps } from "../core/format";
import { ACQUIRE_OPTIONS, acquireLease, acquireTimeoutMs, leaseRequest, type AcquireOptions } from "../core/lease-flow";

interface Options extends AcquireOptions {
  timeout: string;
  sshWait: string;
  json?: boolean;
}

export default defineCommand<Options>({
  path: "acquire",
  summary: "lease a machine, wait until it answers over SSH, and print how to use it",
  json: true,
  options: [{ ...ACQUIRE_OPTIONS[0]!, required: true }, ...ACQUIRE_OPTIONS.slice(1)],
  examples: [
    "crabbox acquire --provider lambda --type gpu_1x_a10 --ttl 4h",
    "crabbox acquire --provider vast --type 1x_RTX_4090 --max-price 0.5",
    "crabbox acquire --provider coder --json",
    "crabbox acquire --provider sealos --release-action destroy",
  ],
  async run(ctx, { opts }) {
    const lease = await acquireLease(ctx, leaseRequest(opts), { timeoutMs: acquireTimeoutMs(opts), sshWaitMs: durationMs(opts.sshWait) });
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
