// `crabbox run` overhead: what the command adds beyond the machine's own boot. Times the built
// CLI (`--json` reports acquire/sync/command durations) against the bench stack, with the
// emulator's boot set to a known time that is subtracted, a 1,000-file tree, and `true` as the
// remote command; plain `ssh … true` with the lease's settings is the command's floor.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { summarize } from "../lib/stats.mjs";

const CLI = "dist/cli/crabbox.mjs";
const BOOT_MS = 1_000;
const FILES = 1_000;

function crabbox(args, env) {
  const res = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`crabbox ${args.join(" ")} exited ${res.status}: ${res.stderr.slice(-500)}`);
  return JSON.parse(res.stdout);
}

export async function measureRun({ url, token, emulator, runs }) {
  execFileSync("npm", ["run", "build:cli"], { stdio: "ignore" });
  const home = mkdtempSync(join(tmpdir(), "crabbox-bench-run-"));
  const tree = join(home, "tree");
  mkdirSync(tree);
  for (let i = 0; i < FILES; i++) writeFileSync(join(tree, `file-${i}.txt`), `line ${i}\n`);
  const env = { CRABBOX_URL: url, CRABBOX_TOKEN: token, CRABBOX_CONFIG_DIR: join(home, "config"), HOME: home };
  await fetch(`${emulator.url}/_emulator/config`, { method: "POST", body: JSON.stringify({ bootMs: BOOT_MS }) });
  try {
    const acquire = [];
    const command = [];
    const floor = [];
    for (let i = 0; i < runs; i++) {
      const result = crabbox(["run", "--provider", "lambda", "--no-sync", "--json", "--", "true"], env);
      acquire.push(result.durationsMs.acquire - BOOT_MS);
      command.push(result.durationsMs.command);
    }
    // A kept lease for the sync figures and the ssh floor.
    const kept = crabbox(["run", "--provider", "lambda", "--no-sync", "--stop-after", "never", "--json", "--", "true"], env);
    const slug = kept.lease.slug;
    const first = crabbox(["run", "--lease", slug, "--sync", tree, "--sync-all", "--json", "--", "true"], env);
    const again = crabbox(["run", "--lease", slug, "--sync", tree, "--sync-all", "--json", "--", "true"], env);
    const sshConfig = crabbox(["ssh-config", "--json"], env).path;
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      execFileSync("ssh", ["-F", sshConfig, "-o", "BatchMode=yes", slug, "true"]);
      floor.push(performance.now() - t);
      command.push(crabbox(["run", "--lease", slug, "--no-sync", "--json", "--", "true"], env).durationsMs.command);
    }
    crabbox(["release", slug, "--json"], env);
    return {
      runs,
      bootMs: BOOT_MS,
      acquireOverBoot: summarize(acquire),
      syncFirst: { ms: first.durationsMs.sync, filesTransferred: first.sync.filesTransferred, files: readdirSync(tree).length },
      syncUnchanged: { ms: again.durationsMs.sync, filesTransferred: again.sync.filesTransferred },
      noopCommand: summarize(command),
      sshFloor: summarize(floor),
    };
  } finally {
    // A fresh connection: the keep-alive one may have idled out while the CLI ran.
    await fetch(`${emulator.url}/_emulator/config`, { method: "POST", body: JSON.stringify({ bootMs: 0 }) });
    rmSync(home, { recursive: true, force: true });
  }
}
