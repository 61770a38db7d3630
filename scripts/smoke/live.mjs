// `npm run smoke:live -- --provider <name>`: proves one provider on a REAL account, safely.
// Opt-in twice: nothing happens without CRABBOX_LIVE=1 and the provider's credentials (env or
// .dev.vars); without them it says `environment_blocked`, what is missing, and exits 0.
// With them: a local coordinator against the real provider → doctor → the cheapest acceptable
// type under a price ceiling (default $3/h) → acquire → SSH `uname -a` → release → the sweep's
// listing of the account shows nothing of this run (machines, and side objects: key objects,
// Secrets) → a JSON report with one classification: passed, environment_blocked,
// provider_blocked (capacity, quota, billing: the provider's side) or failed (ours). A hard
// timeout releases whatever exists before exiting. Every printed line is redacted.
// --allow-loopback lets tests point it at the emulators (test/e2e/smoke-live.e2e.test.ts).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { promisify } from "node:util";
import { freePort, parseDevVars } from "../stack-process.mjs";
import { PROJECT_ROOT, startStack } from "../stack.mjs";

const run = promisify(execFile);

/** What each provider needs (any one group of names suffices) and which vars it may take. */
const NEEDS = {
  lambda: { credentials: [["LAMBDA_API_KEY"]], vars: /^LAMBDA_/ },
  vast: { credentials: [["VAST_API_KEY"]], vars: /^VAST_/ },
  fal: { credentials: [["FAL_KEY"]], vars: /^FAL_/ },
  coder: { credentials: [["CODER_URL", "CODER_SESSION_TOKEN", "CODER_TEMPLATE"]], vars: /^CODER_/ },
  sealos: { credentials: [["SEALOS_API_SERVER", "SEALOS_TOKEN", "SEALOS_NAMESPACE", "SEALOS_IMAGE", "SEALOS_SSH_HOST"], ["SEALOS_KUBECONFIG", "SEALOS_IMAGE", "SEALOS_SSH_HOST"]], vars: /^SEALOS_/ },
};
const SECRET = /(KEY|TOKEN|SECRET|PASSWORD|KUBECONFIG)$/;
const PROVIDER_SIDE = new Set(["capacity", "quota", "billing", "rate_limited"]);

export async function smoke(argv = process.argv.slice(2), env = process.env) {
  const { values } = parseArgs({
    args: argv,
    options: {
      provider: { type: "string" },
      "max-price": { type: "string", default: "3" },
      "allow-unpriced": { type: "boolean" },
      "allow-loopback": { type: "boolean" },
      "deployment-id": { type: "string" },
      timeout: { type: "string", default: "20" },
    },
  });
  const provider = values.provider ?? "";
  const report = { provider, classification: "failed", code: undefined, steps: [], type: undefined, priceCentsPerHour: undefined, residue: undefined };
  const fileVars = existsSync(join(PROJECT_ROOT, ".dev.vars")) ? parseDevVars(readFileSync(join(PROJECT_ROOT, ".dev.vars"), "utf8")) : {};
  const all = { ...fileVars, ...Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === "string")) };
  const secrets = Object.entries(all).filter(([k, v]) => SECRET.test(k) && v && v.length >= 4).map(([, v]) => v);
  const say = (line) => process.stderr.write(`${redact(line, secrets)}\n`);
  const finish = (classification, code) => {
    report.classification = classification;
    report.code = code;
    process.stdout.write(redact(JSON.stringify(report, null, 2), secrets) + "\n");
    return report;
  };

  const need = NEEDS[provider];
  if (!need) {
    say(`smoke: --provider must be one of ${Object.keys(NEEDS).join(", ")}`);
    return finish("environment_blocked", "unknown_provider");
  }
  const missing = [];
  if (all.CRABBOX_LIVE !== "1") missing.push("CRABBOX_LIVE=1");
  const groups = need.credentials.map((group) => group.filter((name) => !all[name]));
  const best = groups.reduce((a, b) => (b.length < a.length ? b : a));
  missing.push(...best);
  if (missing.length) {
    say(`smoke: environment_blocked: missing ${missing.join(", ")} (environment or .dev.vars)`);
    return finish("environment_blocked", "missing_configuration");
  }
  const vars = Object.fromEntries(Object.entries(all).filter(([k]) => need.vars.test(k)));
  const loopback = Object.values(vars).some((v) => /^https?:\/\/(127\.|localhost|\[::1\])/.test(v));
  if (loopback && !values["allow-loopback"]) {
    say("smoke: a provider URL points at this machine: a live smoke needs the real cloud (tests pass --allow-loopback)");
    return finish("environment_blocked", "loopback_url");
  }

  const deploymentId = values["deployment-id"] ?? `smoke-${randomBytes(4).toString("hex")}`;
  const home = mkdtempSync(join(tmpdir(), "crabbox-smoke-"));
  const persistTo = mkdtempSync(join(tmpdir(), "crabbox-smoke-state-"));
  let stack;
  let slug;
  const hardTimeoutMs = Number(values.timeout) * 60_000;
  let timedOut = false;
  const timer = setTimeout(() => (timedOut = true), hardTimeoutMs);
  const step = async (name, fn) => {
    const started = Date.now();
    say(`smoke: ${name}…`);
    if (timedOut) throw Object.assign(new Error("the hard timeout passed"), { code: "timeout" });
    try {
      const detail = await fn();
      report.steps.push({ name, ok: true, detail, ms: Date.now() - started });
      if (detail) say(`smoke: ${name}: ${detail}`);
      return detail;
    } catch (err) {
      report.steps.push({ name, ok: false, detail: redact(err.message, secrets), ms: Date.now() - started });
      throw err;
    }
  };
  const cli = async (args, timeoutMs = 20 * 60_000) => {
    try {
      const { stdout } = await run(process.execPath, [join(PROJECT_ROOT, "dist/cli/crabbox.mjs"), ...args], {
        env: { PATH: env.PATH ?? "", HOME: home, CRABBOX_CONFIG_DIR: home, CRABBOX_URL: stack.url, CRABBOX_TOKEN: stack.token, CODER_URL: all.CODER_URL ?? "", CODER_SESSION_TOKEN: all.CODER_SESSION_TOKEN ?? "" },
        timeout: timeoutMs,
        maxBuffer: 4 << 20,
      });
      return stdout;
    } catch (err) {
      throw Object.assign(new Error(`crabbox ${args[0]} exited ${err.code}: ${String(err.stderr ?? "").trim().split("\n").pop()}`), { code: err.stderr?.match(/\((\w+)\)\s*$/m)?.[1] });
    }
  };
  const api = async (method, path, body) => {
    const res = await fetch(`${stack.url}${path}`, { method, headers: { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" }, body: body && JSON.stringify(body) });
    return res.json();
  };
  try {
    stack = await startStack({ port: await freePort(), persistTo, ignoreDevVars: true, vars: { ...vars, CRABBOX_DEPLOYMENT_ID: deploymentId }, onOutput: () => undefined, log: () => undefined });
    await step("doctor", async () => {
      const report = await api("GET", `/v1/providers/${provider}/doctor`);
      const failed = (report.checks ?? []).filter((c) => c.status === "fail");
      if (failed.length) {
        const auth = failed.find((c) => c.class === "auth");
        throw Object.assign(new Error(failed.map((c) => `${c.name}: ${c.detail}`).join("; ")), { code: auth ? "auth" : failed[0].class ?? "doctor_failed", blame: auth ? "environment" : PROVIDER_SIDE.has(failed[0].class) ? "provider" : "ours" });
      }
      return `${report.checks.length} checks ok`;
    });
    const choice = await step("choose type", async () => {
      const catalog = await api("GET", `/v1/providers/${provider}/catalog`);
      const ceiling = Math.round(Number(values["max-price"]) * 100);
      const entries = (catalog.entries ?? []).filter((e) => e.available !== false);
      if (!entries.length) throw Object.assign(new Error("no type shows capacity"), { code: "capacity", blame: "provider" });
      const priced = entries.filter((e) => e.priceCentsPerHour !== undefined).sort((a, b) => a.priceCentsPerHour - b.priceCentsPerHour);
      const pick = priced[0] ?? (values["allow-unpriced"] || ["coder", "sealos"].includes(provider) ? entries[0] : undefined);
      if (!pick) throw Object.assign(new Error("the catalog has no prices: set the provider's price var or pass --allow-unpriced"), { code: "unpriced", blame: "environment" });
      if (pick.priceCentsPerHour !== undefined && pick.priceCentsPerHour > ceiling) throw Object.assign(new Error(`the cheapest type costs $${pick.priceCentsPerHour / 100}/h, above the $${ceiling / 100}/h ceiling (--max-price)`), { code: "over_ceiling", blame: "environment" });
      report.type = pick.type;
      report.priceCentsPerHour = pick.priceCentsPerHour;
      return pick;
    });
    const typeArgs = ["coder", "sealos"].includes(provider) ? [] : ["--type", choice.type, ...(choice.regions?.[0] ? ["--region", choice.regions[0]] : [])];
    const lease = JSON.parse(await step("acquire", () => cli(["acquire", "--provider", provider, ...typeArgs, "--ttl", "30m", "--json"])));
    slug = lease.slug;
    await step("ssh uname -a", async () => (await cli(["ssh", slug, "--", "uname", "-a"], 120_000)).trim());
    await step("release", async () => JSON.parse(await cli(["release", slug, "--action", "destroy", "--json"])).state);
    slug = undefined;
    const residue = await step("residue", async () => {
      const run = await api("POST", "/v1/admin/sweeps", { dryRun: true, providers: [provider] });
      const p = run.providers?.[0];
      const side = p?.sideObjects;
      if (!p?.complete || !side || side.error !== undefined) {
        throw Object.assign(new Error(`the account could not be listed completely: ${p?.error ?? side?.error ?? "no report"}`), { code: "listing_failed", blame: "ours" });
      }
      // The run's own deployment id: anything of it still listed, machine or side object, is residue.
      report.residue = p.ours + side.listed;
      if (report.residue > 0) {
        const left = [...p.decisions.map((d) => d.resourceId), ...side.objects.map((o) => `${o.kind} ${o.id}`)];
        throw Object.assign(new Error(`${report.residue} resource(s) of this run are still in the account: ${left.join(", ")}`), { code: "residue", blame: "ours" });
      }
      return "nothing of this run is left in the account: no machine, no key object, no Secret";
    });
    void residue;
    return finish("passed");
  } catch (err) {
    const blame = err.blame ?? (err.code === "timeout" ? "ours" : /capacity/.test(err.message) ? "provider" : "ours");
    const classification = blame === "environment" ? "environment_blocked" : blame === "provider" ? "provider_blocked" : "failed";
    say(`smoke: ${classification}: ${err.message}`);
    return finish(classification, err.code ?? (/capacity/.test(err.message) ? "capacity" : "error"));
  } finally {
    clearTimeout(timer);
    // Whatever exists is released before we leave, timeout or not.
    if (stack) {
      const leases = (await api("GET", "/v1/admin/leases?live=true").catch(() => ({ leases: [] }))).leases ?? [];
      for (const l of leases) await api("POST", `/v1/admin/leases/${l.id}/release`, { action: "destroy" }).catch(() => undefined);
      const deadline = Date.now() + 5 * 60_000;
      while (leases.length && Date.now() < deadline) {
        const live = (await api("GET", "/v1/admin/leases?live=true").catch(() => ({ leases: [] }))).leases ?? [];
        if (!live.length) break;
        await new Promise((r) => setTimeout(r, 3_000));
      }
      await stack.stop();
    }
    rmSync(home, { recursive: true, force: true });
    rmSync(persistTo, { recursive: true, force: true });
  }
}

function redact(text, secrets) {
  let out = String(text);
  for (const s of secrets) out = out.split(s).join("[redacted]");
  return out
    .replace(/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, "[redacted private key]")
    .replace(/\b(Bearer|Key)\s+[A-Za-z0-9._~+/=:-]{6,}/g, "$1 [redacted]")
    .replace(/cbx_[A-Za-z0-9_]{10,}/g, "cbx_[redacted]");
}


if (import.meta.url === `file://${process.argv[1]}`) {
  const report = await smoke();
  // 0: passed, or blocked by the environment (nothing to prove here); 2: the provider's side; 1: ours.
  process.exit({ passed: 0, environment_blocked: 0, provider_blocked: 2, failed: 1 }[report.classification] ?? 1);
}
