// Read-only health checks of the fal account: key (admin scope, compute permission), inventory,
// and how many instances no lease of ours recorded. Every failure becomes a check.

import { attempt, failed, ok } from "../checks";
import type { DoctorCheck } from "../types";
import type { FalClient } from "./client";
import type { FalSettings } from "./settings";

const PAGE = 100;

export async function runDoctor(api: FalClient, settings: FalSettings): Promise<DoctorCheck[]> {
  // Listing needs the admin key's compute permission: it is the key check and the inventory check.
  const page = await attempt(() => api.list(undefined, PAGE));
  if (!page.ok) {
    const hint = page.error.kind === "auth" ? "FAL_KEY must be an admin key of an account with compute access (wrangler secret put FAL_KEY)" : "could not list instances; retry later";
    return [failed("api_key", page.error, hint)];
  }
  const checks: DoctorCheck[] = [ok("api_key", "admin key with compute access accepted"), ok("inventory", `${page.value.instances.length} instances on the first page`)];
  checks.push(
    settings.dedicatedAccount
      ? { name: "ownership", status: "warn", class: "config", detail: "FAL_ACCOUNT_DEDICATED=true: the sweep reclaims instances no lease recorded", hint: "only when no person or other system uses this fal account" }
      : ok("ownership", "instances no lease recorded are reported to admins, never touched"),
  );
  return checks;
}
