// Read-only health checks of the Lambda account and configuration: key, account, inventory,
// default type/region, capacity and image family. Every failure becomes a check; nothing throws.

import { attempt, failed, ok } from "../checks";
import type { DoctorCheck } from "../types";
import type { LambdaClient } from "./client";
import type { LambdaSettings } from "./settings";
import type { InstanceTypes } from "./wire";

/** Lambda answers 403 with these codes when the account, not the key, is the problem. */
const ACCOUNT_CODES = new Set(["global/account-inactive", "global/invalid-address"]);

export async function runDoctor(api: LambdaClient, settings: LambdaSettings): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const keys = await attempt(() => api.listSshKeys());
  if (!keys.ok) {
    const accountProblem = keys.error.options.code !== undefined && ACCOUNT_CODES.has(keys.error.options.code);
    if (keys.error.kind === "auth" && !accountProblem) {
      return [failed("api_key", keys.error, "check LAMBDA_API_KEY (wrangler secret put LAMBDA_API_KEY)")];
    }
    if (accountProblem) return [ok("api_key", "key accepted"), failed("account", keys.error, "check the account's email verification, billing address and payment method", "account")];
    return [failed("api_key", keys.error, "could not verify the key; retry later")];
  }
  checks.push(ok("api_key", "key accepted"), ok("account", "account answers API calls"));

  const instances = await attempt(() => api.listInstances());
  checks.push(instances.ok ? ok("inventory", `${instances.value.length} instances listed`) : failed("inventory", instances.error, "the sweep cannot list instances"));

  const types = await attempt(() => api.listInstanceTypes());
  if (!types.ok) {
    checks.push(failed("instance_types", types.error, "could not read instance types"));
  } else {
    checks.push(...typeChecks(types.value, settings));
  }

  if (settings.imageFamily) checks.push(await imageCheck(api, settings.imageFamily, settings.defaultRegion));
  if (settings.firewallRulesetId) checks.push(await rulesetCheck(api, settings.firewallRulesetId, settings.defaultRegion));
  return checks;
}

/** Images are per region: the family must exist where leases launch by default. */
async function imageCheck(api: LambdaClient, family: string, region: string | undefined): Promise<DoctorCheck> {
  const images = await attempt(() => api.listImages());
  if (!images.ok) return failed("image_family", images.error, "could not read images");
  const where = region === undefined ? images.value : images.value.filter((image) => image.region.name === region);
  if (where.some((image) => image.family === family)) return ok("image_family", `image family ${family} exists${region ? ` in ${region}` : ""}`);
  return { name: "image_family", status: "fail", class: "config", detail: `no image of family ${family}${region ? ` in ${region}` : ""}`, hint: "fix LAMBDA_IMAGE_FAMILY (see GET /images)" };
}

/** A firewall ruleset belongs to one region: launching elsewhere with it fails. */
async function rulesetCheck(api: LambdaClient, id: string, region: string | undefined): Promise<DoctorCheck> {
  const ruleset = await attempt(() => api.getFirewallRuleset(id));
  const hint = "fix LAMBDA_FIREWALL_RULESET_ID (see GET /firewall-rulesets)";
  if (!ruleset.ok) return failed("firewall_ruleset", ruleset.error, hint, ruleset.error.kind === "not_found" ? "config" : undefined);
  if (region !== undefined && ruleset.value.region.name !== region) {
    return { name: "firewall_ruleset", status: "fail", class: "config", detail: `ruleset ${ruleset.value.name} is in ${ruleset.value.region.name}, leases launch in ${region}`, hint };
  }
  return ok("firewall_ruleset", `ruleset ${ruleset.value.name}${region ? ` in ${region}` : ""}`);
}

function typeChecks(types: InstanceTypes, settings: LambdaSettings): DoctorCheck[] {
  const { defaultType: type, defaultRegion: region } = settings;
  if (!type || !region) {
    return [{ name: "defaults", status: "warn", class: "config", detail: "LAMBDA_DEFAULT_TYPE or LAMBDA_DEFAULT_REGION is unset", hint: "every lease must then name its type and region" }];
  }
  const item = types[type];
  if (!item) {
    return [{ name: "default_type", status: "fail", class: "config", detail: `instance type ${type} is not offered`, hint: "fix LAMBDA_DEFAULT_TYPE (see crabbox catalog)" }];
  }
  const checks: DoctorCheck[] = [ok("default_type", `${type}: ${item.instance_type.description}`)];
  // instance-types lists only regions with capacity now, so an unseen region is a warning, not an error.
  const seen = Object.values(types).some((t) => t.regions_with_capacity_available.some((r) => r.name === region));
  checks.push(seen ? ok("default_region", `${region} has capacity for some type`) : { name: "default_region", status: "warn", class: "config", detail: `no capacity of any type seen in ${region}`, hint: "check LAMBDA_DEFAULT_REGION" });
  const capacity = item.regions_with_capacity_available.some((r) => r.name === region);
  checks.push(
    capacity
      ? ok("capacity", `${type} available in ${region}`)
      : { name: "capacity", status: "warn", class: "capacity", detail: `no ${type} capacity in ${region} right now`, hint: "leases will fail with capacity until some frees up" },
  );
  return checks;
}
