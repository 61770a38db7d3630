// Start-up cost: the Worker bundle as `wrangler deploy --dry-run` builds it (gzip size is what
// a cold isolate pays to load), and the bundled CLI's cold start next to a bare Node start.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { performance } from "node:perf_hooks";
import { gzipSync } from "node:zlib";
import { runToEnd } from "../lib/procs.mjs";
import { summarize } from "../lib/stats.mjs";

const CLI = "dist/cli/crabbox.mjs";
const KIB = 1024;

/** The machine's own Node (the one users have), not the Node 22 npm put first on PATH. */
export function systemNode() {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir.includes("node_modules")) continue;
    const candidate = join(dir, "node");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error("no system node on PATH");
}

export async function measureBundle({ logDir }) {
  const outdir = await mkdtemp(join(tmpdir(), "crabbox-bundle-"));
  try {
    const logFile = join(logDir, "deploy-dry-run.log");
    await runToEnd("npm", ["exec", "--", "wrangler", "deploy", "--dry-run", "--outdir", outdir], {
      env: { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
      logFile,
    });
    const printed = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(readFileSync(logFile, "utf8"));
    const files = readdirSync(outdir).filter((f) => /\.(m?js|wasm)$/.test(f));
    const bytes = files.reduce((sum, f) => sum + statSync(join(outdir, f)).size, 0);
    const gzipBytes = files.reduce((sum, f) => sum + gzipSync(readFileSync(join(outdir, f))).length, 0);
    return {
      files,
      rawKiB: printed ? Number(printed[1]) : bytes / KIB,
      gzipKiB: printed ? Number(printed[2]) : gzipBytes / KIB,
      source: printed ? "wrangler's Total Upload line" : "gzip of the dry-run output",
      ownGzipKiB: gzipBytes / KIB,
    };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

function timedRun(node, args) {
  const started = performance.now();
  const res = spawnSync(node, args, { encoding: "utf8" });
  const ms = performance.now() - started;
  if (res.status !== 0) throw new Error(`${node} ${args.join(" ")} exited ${res.status}: ${res.stderr}`);
  return { ms, stdout: res.stdout.trim() };
}

/** Alternates `node empty.mjs` (the floor) and `node crabbox.mjs --version`, after a warm-up of each. */
export async function measureCliColdStart({ logDir, runs }) {
  await runToEnd("npm", ["run", "build:cli"], { logFile: join(logDir, "build-cli.log") });
  const node = systemNode();
  const empty = join(logDir, "empty.mjs");
  writeFileSync(empty, "// the floor: a Node start that loads one empty module\n");
  const version = timedRun(node, [CLI, "--version"]).stdout;
  timedRun(node, [empty]);
  const floor = [];
  const cli = [];
  for (let i = 0; i < runs; i++) {
    floor.push(timedRun(node, [empty]).ms);
    cli.push(timedRun(node, [CLI, "--version"]).ms);
  }
  const nodeVersion = timedRun(node, ["--version"]).stdout;
  return { node, nodeVersion, version, floor: summarize(floor), cli: summarize(cli), cliKiB: statSync(CLI).size / KIB };
}
