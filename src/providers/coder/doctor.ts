// Read-only health checks of the Coder deployment: token, organization, template (with a linux
// agent once a workspace exists), inventory. Every failure becomes a check; nothing throws.

import { attempt, failed, ok } from "../checks";
import type { DoctorCheck } from "../types";
import type { CoderClient } from "./client";
import type { CoderSettings } from "./settings";

export async function runDoctor(api: CoderClient, settings: CoderSettings, prefix: string): Promise<DoctorCheck[]> {
  const me = await attempt(() => api.me());
  if (!me.ok) return [failed("token", me.error, "check CODER_SESSION_TOKEN (wrangler secret put CODER_SESSION_TOKEN)")];
  const checks: DoctorCheck[] = [ok("token", `signed in as ${me.value.username}`)];
  const org = await attempt(() => api.organization(settings.organization));
  if (!org.ok) return [...checks, failed("organization", org.error, "check CODER_ORGANIZATION")];
  checks.push(ok("organization", `${org.value.name}`));
  const template = await attempt(() => api.template(org.value.id, settings.template));
  checks.push(template.ok ? ok("template", `${template.value.name} (active version ${template.value.active_version_id})`) : failed("template", template.error, "check CODER_TEMPLATE"));
  if (template.ok) {
    const resources = await attempt(() => api.templateResources(template.value.active_version_id));
    const agents = resources.ok ? resources.value.flatMap((r) => r.agents ?? []) : [];
    if (!resources.ok) checks.push(failed("linux agent", resources.error, "the template's resources could not be read"));
    else if (agents.some((a) => a.operating_system === "linux")) checks.push(ok("linux agent", "the template's active version has a linux agent"));
    else checks.push({ name: "linux agent", status: "fail", class: "config", detail: "the template's active version has no linux agent: its workspaces cannot be reached over SSH", hint: "add a coder_agent with os = \"linux\" to the template" });
  }
  if (template.ok && settings.preset) {
    const presets = await attempt(() => api.presets(template.value.active_version_id));
    if (!presets.ok) checks.push(failed("preset", presets.error, "check CODER_TEMPLATE_PRESET"));
    else if (presets.value.some((p) => p.Name === settings.preset)) checks.push(ok("preset", settings.preset));
    else checks.push({ name: "preset", status: "fail", class: "config", detail: `no preset ${JSON.stringify(settings.preset)} in the active version (it has: ${presets.value.map((p) => p.Name).join(", ") || "none"})`, hint: "check CODER_TEMPLATE_PRESET" });
  }
  const others = await attempt(() => api.mayCreateForOthers(org.value.id));
  if (!others.ok) checks.push(failed("create for users", others.error, "the token's permissions could not be checked"));
  else if (others.value) checks.push(ok("create for users", "the token may create workspaces for other users"));
  else {
    checks.push({
      name: "create for users",
      status: "fail",
      class: "auth",
      detail: `${me.value.username} may create only its own workspaces: leases for anyone else would fail`,
      hint: "use a token of a service account with the Owner role (or user-admin plus template use)",
    });
  }
  const listing = await attempt(() => api.workspaces(prefix, 0));
  checks.push(listing.ok ? ok("inventory", `${listing.value.workspaces.length} workspaces of this coordinator`) : failed("inventory", listing.error, "the sweep cannot list workspaces"));
  return checks;
}
