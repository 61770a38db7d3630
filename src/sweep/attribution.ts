// For providers whose resources carry no marker: the lease index is the ledger of resource ids
// leases learned (DESIGN.md "Ownership without markers"). The sweep and the doctor both read
// the account through it: ids a lease recorded are ours, every other one is unattributed.

import { leasesOfResources } from "../ledger/leases";
import type { DoctorCheck, ProviderAdapter } from "../providers/types";
import { listOwned, type Attribution } from "./inventory";

export function ledgerAttribution(env: Env, adapter: ProviderAdapter): Attribution {
  return {
    dedicated: adapter.capabilities.dedicatedAccount === true,
    async lookup(ids) {
      const rows = await leasesOfResources(env.DB, adapter.name, ids);
      return new Map([...rows].map(([id, row]) => [id, { leaseId: row.leaseId, handle: `lease ${row.slug}` }]));
    },
  };
}

/** Doctor's view: how many resources in the account no lease of ours recorded. */
export async function attributionCheck(env: Env, adapter: ProviderAdapter): Promise<DoctorCheck> {
  const listing = await listOwned(adapter, "", { ...ledgerAttribution(env, adapter), dedicated: false });
  if (!listing.complete) return { name: "unattributed", status: "warn", class: "network", detail: listing.error ?? "listing incomplete" };
  const n = listing.unattributed.count;
  if (n === 0) return { name: "unattributed", status: "ok", detail: `all ${listing.seen} instances were recorded by leases of this coordinator` };
  const action = adapter.capabilities.dedicatedAccount ? "the sweep reclaims them after two sightings (dedicated account)" : "the sweep reports them and never touches them";
  return { name: "unattributed", status: "warn", class: "ownership", detail: `${n} of ${listing.seen} instances were not created by a lease of this coordinator; ${action}` };
}
