// The capability matrix: one row per provider, from what GET /v1/providers answers. One source
// for `crabbox providers`, the console's Providers page and the README's table (a test checks
// the README agrees).

import type { ProviderList } from "./meta";

type Info = ProviderList["providers"][number];

export const MATRIX_HEADER = ["provider", "release actions", "route", "ready when", "resume", "stopped machine", "lease key"];

const ROUTE: Record<string, string> = { direct: "direct SSH", gateway: "SSH gateway", proxy: "client proxy command" };
const READY: Record<string, string> = { ssh_banner: "sshd answers", adapter: "provider says running" };
const KEYS: Record<string, string> = {
  key_object: "per-lease key object",
  instance_key: "attached to the instance",
  create_param: "sent with the create",
  secret: "Secret the gateway routes on",
  template: "the template's agent",
};

export function capabilityRow(p: Info): string[] {
  const c = p.capabilities;
  return [
    p.name,
    c.releaseActions.map((a) => (a === c.defaultReleaseAction ? `${a} (default)` : a)).join(", "),
    ROUTE[c.route ?? "direct"] ?? c.route ?? "-",
    READY[c.readiness] ?? c.readiness,
    c.resume ? "yes" : "no",
    !c.releaseActions.includes("stop") ? "-" : c.stoppedBills ? "still bills storage" : "free",
    KEYS[c.keyHandling] ?? c.keyHandling,
  ];
}

/** The matrix as a Markdown table (README). */
export function capabilityMarkdown(providers: readonly Info[]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(MATRIX_HEADER), line(MATRIX_HEADER.map(() => "---")), ...providers.map((p) => line(capabilityRow(p)))].join("\n");
}
