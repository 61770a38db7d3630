// One lease lifecycle per call, as the people, CI jobs and agents using crabbox would go through
// it, some of them badly: never acknowledging, releasing mid-provisioning, racing duplicate
// creates, stopping and resuming, or (through the CLI) being killed before they acknowledge.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { mintId } from "./client.mjs";

export const SCENARIOS = ["normal", "neverAck", "releaseEarly", "duplicate", "stopResume", "cli", "cliKilled"];
const WEIGHTS = { normal: 34, neverAck: 14, releaseEarly: 14, duplicate: 10, stopResume: 16, cli: 6, cliKilled: 6 };
const TERMINAL = ["released", "failed"];
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHCrbJY6KwKgmfbvl0tDh6fVy4cyB6Zr1KdG7a5JmRbM chaos";

export function pickScenario(random, canStop) {
  const names = SCENARIOS.filter((s) => s !== "stopResume" || canStop);
  const total = names.reduce((sum, s) => sum + WEIGHTS[s], 0);
  let roll = random() * total;
  for (const s of names) if ((roll -= WEIGHTS[s]) < 0) return s;
  return "normal";
}

/** @param {{call: Function}} client */
function leaseApi(client, token, provider) {
  const call = (method, path, body) => client.call(token, method, path, { body, provider });
  return {
    create: (body) => call("POST", "/v1/leases", { provider, sshPublicKey: KEY, ttl: "1h", ...body }),
    get: (id) => call("GET", `/v1/leases/${id}`),
    /** Long-polls until `wanted` (or any later state), or the lease can no longer get there. */
    async waitFor(id, wanted, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await call("GET", `/v1/leases/${id}?wait=${wanted}&timeout=20s`);
        const state = res.json?.state;
        if (state === wanted || TERMINAL.includes(state) || (wanted === "ready" && state === "active")) return res.json;
        if (wanted === "ready" && (state === "releasing" || state === "parked")) return res.json;
        if (Date.now() > deadline) return res.json;
      }
    },
    ack: (id) => call("POST", `/v1/leases/${id}/ack`, {}),
    touch: (id) => call("POST", `/v1/leases/${id}/touch`, {}),
    release: (id, action) => call("POST", `/v1/leases/${id}/release`, action ? { action } : {}),
    resume: (id) => call("POST", `/v1/leases/${id}/resume`, {}),
  };
}

/**
 * Runs one lifecycle; answers the lease id it created (every path ends by releasing, or by
 * leaving the lease to its deadlines, which end it too).
 */
export async function runLifecycle(ctx, scenario, provider) {
  const api = leaseApi(ctx.client, ctx.token, provider);
  const id = mintId(ctx.random);
  const body = { id, ...(scenario === "stopResume" ? { releaseAction: "stop" } : {}) };
  switch (scenario) {
    case "cli":
    case "cliKilled":
      return runCli(ctx, scenario, provider);
    case "duplicate": {
      const answers = await Promise.all([api.create(body), api.create(body), api.create(body)]);
      const created = answers.filter((a) => a.status === 201 || a.status === 200);
      if (created.some((a) => a.json.id !== id)) ctx.note(id, "a duplicate create answered another lease");
      if (!created.length) return { id, outcome: `refused ${answers[0].status}` };
      return finishNormally(api, id);
    }
    default: {
      const res = await api.create(body);
      if (res.status !== 201 && res.status !== 200) return { id, outcome: `refused ${res.status} ${res.json?.error?.code ?? ""}` };
      if (scenario === "releaseEarly") {
        await api.release(id);
        return { id, outcome: "released early" };
      }
      if (scenario === "neverAck") {
        await api.waitFor(id, "ready", 90_000);
        return { id, outcome: "left unacknowledged" };
      }
      if (scenario === "stopResume") return stopResume(api, id);
      return finishNormally(api, id);
    }
  }
}

async function finishNormally(api, id) {
  const lease = await api.waitFor(id, "ready", 120_000);
  if (lease?.state === "ready") {
    await api.ack(id);
    await api.touch(id);
  }
  await api.release(id);
  return { id, outcome: lease?.state ?? "unknown" };
}

async function stopResume(api, id) {
  let lease = await api.waitFor(id, "ready", 120_000);
  if (lease?.state !== "ready") {
    await api.release(id, "destroy");
    return { id, outcome: lease?.state ?? "unknown" };
  }
  await api.ack(id);
  await api.release(id);
  lease = await api.waitFor(id, "parked", 90_000);
  if (lease?.state === "parked") {
    await api.resume(id);
    lease = await api.waitFor(id, "ready", 120_000);
    if (lease?.state === "ready") await api.ack(id);
  }
  await api.release(id, "destroy");
  return { id, outcome: `stop/resume ${lease?.state ?? "unknown"}` };
}

/** The built CLI: a whole acquire and release, or an acquire killed (-9) before it acknowledges. */
async function runCli(ctx, scenario, provider) {
  const env = { PATH: process.env.PATH ?? "", HOME: ctx.cliHome, CRABBOX_CONFIG_DIR: ctx.cliHome, CRABBOX_URL: ctx.url, CRABBOX_TOKEN: ctx.token };
  const cli = join(ctx.root, "dist/cli/crabbox.mjs");
  const run = (args, killAfterMs) =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [cli, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      child.on("close", (code) => {
        if (timer) clearTimeout(timer);
        resolve({ code, out });
      });
    });
  if (scenario === "cliKilled") {
    const before = new Set(ctx.idsOf(provider));
    await run(["acquire", "--provider", provider, "--json"], 600 + Math.floor(ctx.random() * 1500));
    // The CLI minted the id: find it among this owner's leases (it may not have been created at all).
    const list = await ctx.client.call(ctx.token, "GET", `/v1/leases?provider=${provider}&limit=100`, { provider });
    const mine = (list.json?.leases ?? []).map((l) => l.id).filter((id) => !before.has(id) && !ctx.known.has(id));
    return { id: mine[0], outcome: "CLI killed", extra: mine.slice(1) };
  }
  const acquired = await run(["acquire", "--provider", provider, "--json", "--timeout", "3m"]);
  let lease;
  try {
    lease = JSON.parse(acquired.out);
  } catch {
    return { id: undefined, outcome: `CLI acquire exited ${acquired.code}` };
  }
  await run(["release", lease.id, "--action", "destroy", "--json"]);
  return { id: lease.id, outcome: `CLI ${lease.state}` };
}
