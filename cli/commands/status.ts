// `crabbox status <lease> [--wait <state>]`: one lease in detail, optionally after waiting (with the
// long-poll) until it reaches a state; exits 8 if it can no longer get there, 5 at the timeout.
import type { LeaseState } from "../../src/contract/lease";
import { STATE_CHOICES, defineCommand, duration, durationMs } from "../core/command";
import { leaseDetails } from "../core/format";
import { leaseEndedError, satisfies, waitForState } from "../core/wait";

interface Options {
  wait?: LeaseState;
  timeout: string;
  json?: boolean;
}

export default defineCommand<Options>({
  path: "status",
  summary: "show a lease (by id or slug), optionally waiting for a state",
  args: ["<lease>"],
  json: true,
  options: [
    { flags: "--wait <state>", description: "wait until the lease reaches this state", choices: STATE_CHOICES },
    { flags: "--timeout <duration>", description: "how long --wait waits", parse: duration, defaultValue: "10m" },
  ],
  examples: ["crabbox status brave-otter-4k2a", "crabbox status brave-otter-4k2a --wait released --json"],
  async run(ctx, { args: [idOrSlug = ""], opts }) {
    const client = ctx.client();
    const lease = opts.wait
      ? await waitForState(client, idOrSlug, opts.wait, { timeoutMs: durationMs(opts.timeout) })
      : await client.getLease(idOrSlug);
    if (opts.wait && !satisfies(lease.state, opts.wait)) throw leaseEndedError(lease, opts.wait);
    ctx.store.saveRecord(lease);
    ctx.out.result(lease, () => leaseDetails(ctx.out.color, lease));
  },
});
