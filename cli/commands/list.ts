// `crabbox list`: your leases (live ones unless --ended or --state), or with --all every owner's
// (admin). Follows the API's cursor through every page.
import type { LeaseState, LeaseSummary } from "../../src/contract/lease";
import { STATE_CHOICES, defineCommand } from "../core/command";
import { describeCost } from "../core/format";
import { table } from "../core/output";

const PAGE_SIZE = 100;
/** A guard against a server that keeps answering with a cursor. */
const MAX_PAGES = 100;

interface Options {
  all?: boolean;
  owner?: string;
  state?: LeaseState;
  provider?: string;
  ended?: boolean;
  json?: boolean;
}

export default defineCommand<Options>({
  path: "list",
  summary: "list your live leases (--all: every owner's, admins only)",
  json: true,
  options: [
    { flags: "--all", description: "leases of every owner (admin)" },
    { flags: "--owner <owner>", description: "with --all: only this owner's leases" },
    { flags: "--state <state>", description: "only leases in this state", choices: STATE_CHOICES },
    { flags: "--provider <name>", description: "only leases of this provider" },
    { flags: "--ended", description: "include leases that have ended" },
  ],
  async run(ctx, { opts }) {
    const client = ctx.client();
    const live = opts.ended || opts.state ? undefined : "true";
    const leases: LeaseSummary[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const query = { state: opts.state, provider: opts.provider, live, limit: String(PAGE_SIZE), cursor } as const;
      const answer = opts.all ? await client.adminListLeases({ ...query, owner: opts.owner }) : await client.listLeases(query);
      leases.push(...answer.leases);
      cursor = answer.nextCursor;
      if (!cursor) break;
    }
    ctx.out.result({ leases }, () => {
      if (leases.length === 0) return live ? "No live leases. `crabbox acquire --provider <name>` starts one." : "No leases.";
      const { color } = ctx.out;
      const header = ["SLUG", "STATE", "PROVIDER", "TYPE", "REGION", "CREATED", "COST", ...(opts.all ? ["OWNER"] : [])];
      const rows = leases.map((lease) => [
        lease.slug,
        lease.state + (lease.endReason ? ` (${lease.endReason})` : ""),
        lease.provider,
        lease.type ?? "-",
        lease.region ?? "-",
        lease.createdAt,
        describeCost(lease),
        ...(opts.all ? [lease.owner] : []),
      ]);
      return table(color, header, rows);
    });
  },
});
