// Human-readable views of leases shared by several commands (status, acquire, resume, release).
import { formatDuration } from "../../src/contract/common";
import type { Endpoint, Lease } from "../../src/contract/lease";
import type { Colors } from "./output";
import { shellQuote } from "./ssh";

export function describeEndpoint(endpoint: Endpoint): string {
  if (endpoint.kind === "ssh") return `${endpoint.user}@${endpoint.host} port ${endpoint.port}`;
  const via = endpoint.proxyCommand.map(shellQuote).join(" ");
  return `${endpoint.user}@${endpoint.host} via ProxyCommand ${via}${endpoint.url ? ` (${endpoint.url})` : ""}`;
}

export function describeMachine(lease: Lease): string {
  return [lease.provider, lease.type, lease.region && `in ${lease.region}`].filter(Boolean).join(" ");
}

export function colorState(color: Colors, state: string): string {
  if (state === "active" || state === "ready") return color.green(state);
  if (state === "failed") return color.red(state);
  if (state === "released") return color.dim(state);
  return color.yellow(state);
}

/** Cents as dollars: "$1.23". */
export const money = (cents: number) => `$${(cents / 100).toFixed(2)}`;

/** "$0.42 so far at $1.20/h", or "no price" when the provider has none configured. */
export function describeCost(lease: { costCents: number; priceCentsPerHour?: number }): string {
  if (lease.priceCentsPerHour === undefined) return lease.costCents ? `${money(lease.costCents)} so far` : "no price";
  return `${money(lease.costCents)} so far at ${money(lease.priceCentsPerHour)}/h`;
}

export function leaseDetails(color: Colors, lease: Lease): string[] {
  const rows: [string, string | undefined][] = [
    ["state", colorState(color, lease.state) + (lease.endReason ? ` (${lease.endReason})` : "")],
    ["machine", describeMachine(lease)],
    ["endpoint", lease.endpoint && describeEndpoint(lease.endpoint)],
    ["release", `${lease.releaseAction} on release`],
    ["cost", describeCost(lease)],
    ["queue", lease.queue && `${lease.queue.position ? `#${lease.queue.position} in line` : "in line"} for ${(lease.types ?? [lease.type]).filter(Boolean).join(" or ")}, gives up at ${lease.queue.until}`],
    ["created", lease.createdAt],
    ["ready", lease.readyAt],
    ["last use", lease.lastTouchAt],
    ["idle", lease.deadlines.idle && `ends at ${lease.deadlines.idle} unless used (idle timeout ${formatDuration(lease.idleTimeoutSeconds * 1000)})`],
    ["ack by", lease.deadlines.ack],
    ["ttl", lease.deadlines.ttl && `ends at ${lease.deadlines.ttl} at the latest`],
    ["retention", lease.deadlines.retention && `parked machine destroyed at ${lease.deadlines.retention}`],
    ["ended", lease.endedAt],
    ["failure", lease.failure && `${lease.failure.message} (${lease.failure.code})`],
  ];
  const present = rows.filter((row): row is [string, string] => Boolean(row[1]));
  return [`${color.bold(lease.slug)} ${color.dim(`(id ${lease.id})`)}`, ...present.map(([key, value]) => `  ${key.padEnd(10)} ${value}`)];
}

/** The commands to paste next; they name the slug, which every command accepts. */
export function followUps(color: Colors, slug: string): string[] {
  const lines: [string, string][] = [
    [`crabbox ssh ${slug}`, "open a shell (keeps the lease alive while open)"],
    [`crabbox ssh ${slug} -- uname -a`, "run one command"],
    [`crabbox release ${slug}`, "give the machine back when done"],
  ];
  const width = Math.max(...lines.map(([command]) => command.length));
  return lines.map(([command, what]) => `  ${color.cyan(command.padEnd(width))}  ${color.dim(what)}`);
}
