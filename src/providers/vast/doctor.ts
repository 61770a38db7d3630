// Read-only health checks of the Vast.ai account and configuration: key, account-level SSH
// keys, offers for the default type, inventory. Every failure becomes a check; nothing throws.

import { attempt, failed, ok } from "../checks";
import type { DoctorCheck } from "../types";
import type { VastClient } from "./client";
import type { VastSettings } from "./settings";
import type { SearchRequest } from "./wire";

export async function runDoctor(api: VastClient, settings: VastSettings, searchFor: (type: string) => SearchRequest): Promise<DoctorCheck[]> {
  const user = await attempt(() => api.currentUser());
  if (!user.ok) return [failed("api_key", user.error, "check VAST_API_KEY (wrangler secret put VAST_API_KEY)")];
  const checks: DoctorCheck[] = [ok("api_key", "key accepted (GET /users/current/)")];
  // Account-level keys are copied into every new instance: whoever holds one can log into
  // every lease's machine, not only their own (docs: connect/ssh "account keys").
  checks.push(
    user.value.ssh_key?.trim()
      ? { name: "account_keys", status: "warn", class: "config", detail: "the account has an account-level SSH key: it is copied into every lease's instance", hint: "remove account keys (console → Keys); crabbox attaches each lease's own key" }
      : ok("account_keys", "no account-level SSH key"),
  );
  const listing = await attempt(() => api.listInstances());
  checks.push(listing.ok ? ok("inventory", `${listing.value.instances.length} instances on the first page`) : failed("inventory", listing.error, "the sweep cannot list instances"));
  if (!settings.defaultType) {
    checks.push({ name: "defaults", status: "warn", class: "config", detail: "VAST_DEFAULT_TYPE is unset", hint: "every lease must then name its type, e.g. 1x_RTX_4090" });
    return checks;
  }
  const offers = await attempt(() => api.searchOffers(searchFor(settings.defaultType!)));
  if (!offers.ok) checks.push(failed("offers", offers.error, "could not search offers"));
  else if (offers.value.length === 0) checks.push({ name: "offers", status: "warn", class: "capacity", detail: `no offer for ${settings.defaultType} within $${settings.maxPricePerHour}/h right now`, hint: "leases will fail with capacity until one appears" });
  else checks.push(ok("offers", `${offers.value.length} offers for ${settings.defaultType}, from $${Math.min(...offers.value.map((o) => o.dph_total)).toFixed(3)}/h`));
  return checks;
}
