// Checks `crabbox doctor` runs on the client itself, beside the coordinator's: what a provider's
// proxy route needs here (its command on PATH), so a missing `coder` is found before an acquire.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import type { DoctorReport, ProviderList } from "../../src/contract/meta";

type Check = DoctorReport["checks"][number];

/** The first executable named `command` on PATH, or undefined. */
export function onPath(command: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function clientChecks(provider: ProviderList["providers"][number], path?: string): Check[] {
  const proxy = provider.capabilities.proxyClient;
  if (!proxy) return [];
  const found = onPath(proxy.command, path);
  return [
    found
      ? { name: "client: proxy command", status: "ok", detail: `${proxy.command} is ${found}; log in with ${proxy.login}` }
      : {
          name: "client: proxy command",
          status: "fail",
          class: "client",
          detail: `${proxy.command} is not on PATH: SSH to ${provider.name} leases runs it as the ProxyCommand`,
          hint: `install it, then ${proxy.login}`,
        },
  ];
}
