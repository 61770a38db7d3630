// `crabbox ssh <lease> [-- command...]`: the system ssh with the lease's key, user, port, own
// known_hosts and ProxyCommand; keeps the lease alive while open; exits with the remote status.
import { defineCommand } from "../core/command";
import { CliError, EXIT, usageError } from "../core/errors";
import { keepAlive } from "../core/keepalive";
import { type LiveLease, usableLease } from "../core/lease-flow";
import { runSsh, sshArgs } from "../core/ssh";

/** Detects a dead connection within about a minute instead of hanging on a gone machine. */
const SERVER_ALIVE_INTERVAL_S = 15;

interface Options {
  tailnet?: boolean;
  localForward?: string[];
  remoteForward?: string[];
  dynamicForward?: string[];
}

export default defineCommand<Options>({
  path: "ssh",
  summary: "open a shell on the lease's machine, or run one command (after --)",
  args: ["<lease>", "[command...]"],
  options: [
    { flags: "--tailnet", description: "connect through the team's tailnet (leases acquired with --tailscale)" },
    { flags: "-L, --local-forward <spec...>", description: "forward a local port to the machine, as ssh -L (e.g. 8888:localhost:8888)" },
    { flags: "-R, --remote-forward <spec...>", description: "forward a port on the machine back here, as ssh -R" },
    { flags: "-D, --dynamic-forward <port...>", description: "a SOCKS proxy through the machine, as ssh -D" },
  ],
  examples: ["crabbox ssh brave-otter-4k2a", "crabbox ssh brave-otter-4k2a -- nvidia-smi", "crabbox ssh brave-otter-4k2a -L 8888:localhost:8888"],
  async run(ctx, { args, opts }) {
    const [idOrSlug, ...command] = args;
    if (!idOrSlug) throw usageError("which lease? `crabbox ssh <lease>`");
    const lease = await usableLease(ctx, idOrSlug);
    const paths = ctx.store.paths(lease.id);
    const hostKeys = ctx.store.hasHostKey(lease.id) ? "yes" : "accept-new";
    const forwards: [string, string][] = [
      ...(opts.localForward ?? []).map((spec): [string, string] => ["LocalForward", forwardSpec(spec)]),
      ...(opts.remoteForward ?? []).map((spec): [string, string] => ["RemoteForward", forwardSpec(spec)]),
      ...(opts.dynamicForward ?? []).map((spec): [string, string] => ["DynamicForward", spec]),
    ];
    const endpoint = opts.tailnet ? tailnetEndpoint(lease) : lease.endpoint;
    const sshArgv = sshArgs(endpoint, paths, hostKeys, [["ServerAliveInterval", String(SERVER_ALIVE_INTERVAL_S)], ...forwards]);
    const stop = keepAlive(ctx.client({ signal: null }), lease, ctx.out);
    try {
      return await runSsh([...sshArgv, ...command]);
    } finally {
      stop();
    }
  },
});

/** ssh -L's `[bind:]port:host:hostport` as the LocalForward/RemoteForward keyword wants it: `[bind:]port host:hostport`. */
function forwardSpec(spec: string): string {
  const parts = spec.split(":");
  if (parts.length < 3 || parts.some((p) => p === "")) throw usageError(`${spec}: expected [bind:]port:host:hostport, as ssh -L`);
  const hostPort = parts.slice(-2).join(":");
  return `${parts.slice(0, -2).join(":")} ${hostPort}`;
}

/** The tailnet name instead of the public address: port 22 there, the same user and key. */
function tailnetEndpoint(lease: LiveLease): LiveLease["endpoint"] {
  if (lease.endpoint.kind !== "ssh" || !lease.endpoint.tailnetHost) {
    throw new CliError(`lease ${lease.slug} did not join a tailnet (acquire it with --tailscale)`, { code: "usage", exitCode: EXIT.usage });
  }
  return { ...lease.endpoint, host: lease.endpoint.tailnetHost, port: 22 };
}
