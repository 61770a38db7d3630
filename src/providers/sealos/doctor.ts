// Read-only health checks of the Sealos cluster: the API server (TLS and port failures told
// apart), the Devbox CRD, `Paused` support (a dry-run create), the token's rules in the
// namespace, and the image and route settings. Every failure becomes a check; nothing throws.

import { attempt, failed, ok } from "../checks";
import { ProviderError, type DoctorCheck } from "../types";
import { reasonOf, type SealosClient } from "./client";
import type { SealosSettings } from "./settings";
import { GROUP, type RulesReview } from "./wire";

/** What a lease needs, by resource (controller-and-api-facts.md §1 names the shipped roles). */
const NEEDED: Record<string, { group: string; verbs: string[] }> = {
  devboxes: { group: GROUP, verbs: ["create", "get", "list", "patch", "delete"] },
  secrets: { group: "", verbs: ["create", "get", "delete"] },
};
/** What the sweep needs to find Secrets that lost leases left: leases work without it. */
const WANTED: Record<string, { group: string; verbs: string[] }> = {
  secrets: { group: "", verbs: ["list"] },
};

export async function runDoctor(api: SealosClient, settings: SealosSettings): Promise<DoctorCheck[]> {
  const version = await attempt(() => api.version());
  if (!version.ok) return [reachability(version.error, settings.apiServer)];
  const checks: DoctorCheck[] = [ok("api server", `${new URL(settings.apiServer).host} answers, Kubernetes ${version.value.gitVersion}`)];
  const discovery = await attempt(() => api.devboxResources());
  const served = discovery.ok && discovery.value.resources.some((r) => r.name === "devboxes" && r.kind === "Devbox");
  if (!discovery.ok) checks.push(failed("devbox crd", discovery.error, "is the DevBox controller installed? (devbox.sealos.io/v1alpha2)", discovery.error.kind === "not_found" || discovery.error.options.status === 404 ? "config" : undefined));
  else checks.push(served ? ok("devbox crd", "devbox.sealos.io/v1alpha2 serves devboxes") : { name: "devbox crd", status: "fail", class: "config", detail: "devbox.sealos.io/v1alpha2 does not list devboxes", hint: "install the DevBox controller's v1alpha2 CRD" });
  const rules = await attempt(() => api.rulesReview(settings.namespace));
  checks.push(rules.ok ? permissions(rules.value, settings.namespace) : failed("permissions", rules.error, "the token's rules could not be read (SelfSubjectRulesReview)"));
  if (served) checks.push(await pausedSupport(api, settings));
  checks.push(settings.image ? ok("image", settings.image) : { name: "image", status: "fail", class: "config", detail: "SEALOS_IMAGE is not set", hint: "set SEALOS_IMAGE to a DevBox runtime image" });
  const route = settings.network === "SSHGate" ? `SSHGate at ${settings.sshHost}:${settings.sshGatePort}` : `NodePort on ${settings.sshHost}`;
  checks.push(settings.sshHost ? ok("route", route) : { name: "route", status: "fail", class: "config", detail: "SEALOS_SSH_HOST is not set", hint: "the region's SSH domain (SSHGate) or a node host (NodePort)" });
  return checks;
}

/** A Worker reaches the API server only over a public TLS chain on a reachable port: say which failed. */
function reachability(error: ProviderError, server: string): DoctorCheck {
  const host = (() => {
    try {
      return new URL(server).host;
    } catch {
      return server;
    }
  })();
  if (/TLS|certificate|SSL|handshake/i.test(error.message)) {
    return { name: "api server", status: "fail", class: "tls", detail: error.message, hint: `${host}'s certificate must chain to a public root for a Worker to reach it` };
  }
  if (error.kind === "ambiguous") {
    return { name: "api server", status: "fail", class: "network", detail: error.message, hint: `${host} is unreachable from here: is the port open to the internet (Cloudflare's egress)?` };
  }
  return failed("api server", error, "check SEALOS_API_SERVER and SEALOS_TOKEN");
}

function permissions(review: RulesReview, namespace: string): DoctorCheck {
  const rules = review.status.resourceRules ?? [];
  const allows = (group: string, resource: string, verb: string) =>
    rules.some((r) => !r.resourceNames?.length && (r.apiGroups ?? []).some((g) => g === "*" || g === group) && (r.resources ?? []).some((x) => x === "*" || x === resource) && r.verbs.some((v) => v === "*" || v === verb));
  const lacking = (needs: typeof NEEDED) => Object.entries(needs).flatMap(([resource, need]) => need.verbs.filter((verb) => !allows(need.group, resource, verb)).map((verb) => `${resource} ${verb}`));
  const missing = lacking(NEEDED);
  const unwanted = lacking(WANTED);
  const incomplete = review.status.incomplete ? "; the review was incomplete" : "";
  if (!missing.length && !unwanted.length) return ok("permissions", `the token may manage devboxes and secrets in ${namespace}`);
  if (!missing.length) {
    return {
      name: "permissions",
      status: "warn",
      class: "auth",
      detail: `the token may not: ${unwanted.join(", ")} (in ${namespace})${incomplete}`,
      hint: "leases work, but the sweep cannot find the Secrets a lost lease left behind: add secrets list to the token's role",
    };
  }
  const secretsOnly = missing.every((m) => m.startsWith("secrets"));
  return {
    name: "permissions",
    status: "fail",
    class: "auth",
    detail: `the token may not: ${[...missing, ...unwanted].join(", ")} (in ${namespace})${incomplete}`,
    hint: secretsOnly ? "leases pre-create the DevBox's Secret with their own key: without secrets create they cannot be reached (README: Sealos)" : "use a token bound to devbox-editor-role plus secrets create/get/list/delete in the namespace",
  };
}

/** Older CRDs lack `Paused`: a dry-run create with it tells, without creating anything. */
async function pausedSupport(api: SealosClient, settings: SealosSettings): Promise<DoctorCheck> {
  const probe = {
    apiVersion: `${GROUP}/v1alpha2`,
    kind: "Devbox",
    metadata: { name: "crabbox-doctor-paused-probe" },
    spec: { state: "Paused", resource: { cpu: settings.cpu, memory: settings.memory }, image: settings.image || "probe", network: { type: settings.network }, config: {} },
  };
  const result = await attempt(() => api.createDevbox(probe, { dryRun: true }));
  if (result.ok) return ok("paused", "the cluster accepts spec.state Paused: stop parks a DevBox as Paused");
  if (reasonOf(result.error) === "Invalid" && result.error.message.includes('Unsupported value: "Paused"')) {
    return { name: "paused", status: "warn", class: "config", detail: "this cluster's CRD has no Paused: stop parks DevBoxes as Stopped", hint: "upgrade the DevBox controller for Paused (faster resume)" };
  }
  if (reasonOf(result.error) === "AlreadyExists") return ok("paused", "dry-run create answered AlreadyExists (a DevBox of the probe's name exists)");
  return failed("paused", result.error, "a dry-run create of a Devbox failed");
}
