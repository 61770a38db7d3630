// `crabbox ssh-config`: writes <config>/ssh_config with a Host block per live lease whose key is
// on this machine, for `Include` from ~/.ssh/config: then `ssh <slug>` and editors' remote SSH work.
import { join } from "node:path";
import type { Lease } from "../../src/contract/lease";
import { defineCommand } from "../core/command";
import { ensurePrivateDir, writePrivateFile } from "../core/config";
import { sshSettings } from "../core/ssh";
import { LIVE_ENDPOINT_STATES } from "../core/wait";

const PAGE_SIZE = 100;
const MAX_PAGES = 100;

export default defineCommand({
  path: "ssh-config",
  summary: "write an SSH config of your live leases to Include from ~/.ssh/config",
  json: true,
  async run(ctx) {
    const client = ctx.client();
    const leases: Lease[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const answer = await client.listLeases({ live: "true", limit: String(PAGE_SIZE), cursor });
      for (const summary of answer.leases) {
        if (!LIVE_ENDPOINT_STATES.includes(summary.state)) continue;
        if (!ctx.store.hasKeys(summary.id)) {
          ctx.out.note(`skipped ${summary.slug}: its key is not on this machine`);
          continue;
        }
        leases.push(await client.getLease(summary.id)); // summaries carry no endpoint
      }
      cursor = answer.nextCursor;
      if (!cursor) break;
    }

    const path = join(ctx.configDir, "ssh_config");
    const include = `Include ${path}`;
    const hosts = leases.flatMap((lease) => {
      if (!lease.endpoint) return [];
      const hostKeys = ctx.store.hasHostKey(lease.id) ? "yes" : "accept-new";
      const settings = sshSettings(lease.endpoint, ctx.store.paths(lease.id), hostKeys);
      return [{ lease, lines: [`Host ${lease.slug}`, `  HostName ${lease.endpoint.host}`, ...settings.map(([key, value]) => `  ${key} ${value}`)] }];
    });
    const header = [
      `# Written by \`crabbox ssh-config\` at ${new Date().toISOString()} for ${client.url}.`,
      "# Run it again after acquiring or releasing a lease. Use it from ~/.ssh/config (above any Host line):",
      `#   ${include}`,
    ];
    ensurePrivateDir(ctx.configDir);
    writePrivateFile(path, [...header, ...hosts.flatMap(({ lines }) => ["", ...lines])].join("\n") + "\n");

    const result = { path, include, hosts: hosts.map(({ lease }) => ({ slug: lease.slug, id: lease.id, host: lease.endpoint?.host })) };
    ctx.out.result(result, () => [
      `Wrote ${hosts.length} host${hosts.length === 1 ? "" : "s"} to ${path}${hosts.length ? `: ${hosts.map(({ lease }) => lease.slug).join(", ")}` : ""}.`,
      "Add this line at the top of ~/.ssh/config (once):",
      `  ${include}`,
      ...(hosts[0] ? [`Then: ssh ${hosts[0].lease.slug}`] : []),
    ]);
  },
});
