// `crabbox ssh <lease> [-- command...]`: the system ssh with the lease's key, user, port, own
// known_hosts and ProxyCommand; keeps the lease alive while open; exits with the remote status.
import { defineCommand } from "../core/command";
import { CliError, EXIT, usageError } from "../core/errors";
import { keepAlive } from "../core/keepalive";
import { bringUp, noLocalKey } from "../core/lease-flow";
import { runSsh, sshArgs } from "../core/ssh";
import { LIVE_ENDPOINT_STATES } from "../core/wait";

/** Detects a dead connection within about a minute instead of hanging on a gone machine. */
const SERVER_ALIVE_INTERVAL_S = 15;
const READY_WAIT_MS = 60_000;

export default defineCommand({
  path: "ssh",
  summary: "open a shell on the lease's machine, or run one command (after --)",
  args: ["<lease>", "[command...]"],
  examples: ["crabbox ssh brave-otter-4k2a", "crabbox ssh brave-otter-4k2a -- nvidia-smi"],
  async run(ctx, { args }) {
    const [idOrSlug, ...command] = args;
    if (!idOrSlug) throw usageError("which lease? `crabbox ssh <lease>`");
    const client = ctx.client();
    let lease = await client.getLease(idOrSlug);
    if (!ctx.store.hasKeys(lease.id)) throw noLocalKey(lease);
    if (lease.state === "ready") {
      // Acquired but never acknowledged (the acquiring client stopped after ready): finish the job.
      const progress = ctx.out.progress();
      try {
        lease = await bringUp(ctx, lease, progress, { timeoutMs: READY_WAIT_MS });
      } finally {
        progress.pause(); // the session owns the terminal from here
      }
    }
    if (!LIVE_ENDPOINT_STATES.includes(lease.state) || !lease.endpoint) {
      const next = lease.state === "parked" ? `: \`crabbox resume ${lease.slug}\` first` : "";
      throw new CliError(`lease ${lease.slug} is ${lease.state}${next}`, { code: "invalid_state", exitCode: EXIT.lease });
    }
    const paths = ctx.store.paths(lease.id);
    const hostKeys = ctx.store.hasHostKey(lease.id) ? "yes" : "accept-new";
    const sshArgv = sshArgs(lease.endpoint, paths, hostKeys, [["ServerAliveInterval", String(SERVER_ALIVE_INTERVAL_S)]]);
    const stop = keepAlive(ctx.client({ signal: null }), lease, ctx.out);
    try {
      return await runSsh([...sshArgv, ...command]);
    } finally {
      stop();
    }
  },
});
