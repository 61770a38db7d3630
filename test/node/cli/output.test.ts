// Output modes: every reporting command's --json prints exactly one JSON document on stdout (no
// progress, no colour), and the bundle runs on the system's Node 20 with a fast --version.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Lease } from "../../../src/contract/lease";
import { CLI_NODE_VERSION, ROOT, closedPortUrl, runCli, tempDir } from "./helpers/run-cli";
import { type World, onlyJson, startWorld } from "./helpers/world";

let world: World;
let lease: Lease;
beforeAll(async () => {
  world = await startWorld();
  lease = onlyJson((await world.run(["acquire", "--provider", "lambda", "--json"])).stdout) as Lease;
});
afterAll(async () => {
  await world.stop();
});

const admin = { CRABBOX_TOKEN: "admin-token" };
const reporting: [string[], Record<string, string>?][] = [
  [["whoami"]],
  [["providers"]],
  [["catalog", "--provider", "lambda"]],
  [["doctor"]],
  [["list"]],
  [["list", "--all"], admin],
  [["status", "LEASE"]],
  [["events", "LEASE"]],
  [["touch", "LEASE"]],
  [["ssh-config"]],
  [["admin", "token", "create", "--owner", "bob"], admin],
  [["admin", "token", "list"], admin],
  [["admin", "sweep", "--dry-run"], admin],
  [["admin", "sweeps"], admin],
];

describe("--json", () => {
  for (const [args, env] of reporting) {
    it(`crabbox ${args.join(" ")} --json prints only JSON`, async () => {
      const result = await world.run([...args.map((arg) => (arg === "LEASE" ? lease.slug : arg)), "--json"], { env });
      expect(result.code).toBe(0);
      expect(() => onlyJson(result.stdout)).not.toThrow();
      expect(result.stdout).not.toMatch(/\u001b\[/);
    });
  }

  it("admin token create sends --provider-user as providerUsers, and refuses a malformed one", async () => {
    const created = await world.run(["admin", "token", "create", "--owner", "asmith", "--provider-user", "coder=alice-smith", "--json"], { env: admin });
    expect((onlyJson(created.stdout) as { info: unknown }).info).toMatchObject({ owner: "asmith", providerUsers: { coder: "alice-smith" } });
    const bad = await world.run(["admin", "token", "create", "--owner", "asmith", "--provider-user", "alice"], { env: admin });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--provider-user takes name=value/);
  });

  it("acquire --json keeps its progress on stderr", async () => {
    const result = await world.run(["acquire", "--provider", "lambda", "--json"]);
    expect((onlyJson(result.stdout) as Lease).state).toBe("active");
    expect(result.stderr).toMatch(/Requesting a lambda machine/);
    expect(result.stderr).toMatch(/is active/);
  });

  it("pretty output has no colour when NO_COLOR is set, even with FORCE_COLOR", async () => {
    const result = await world.run(["list"], { env: { NO_COLOR: "1", FORCE_COLOR: "1" } });
    expect(result.stdout).toContain(lease.slug);
    expect(result.stdout).not.toMatch(/\u001b\[/);
  });
});

describe("the bundle", () => {
  it(`runs on the system Node (${CLI_NODE_VERSION}) and answers --version fast, offline`, async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    const started = performance.now();
    const result = await runCli(["--version"], { configDir: tempDir(), env: { CRABBOX_URL: await closedPortUrl() } });
    const elapsedMs = performance.now() - started;
    expect(result).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
    expect(elapsedMs).toBeLessThan(1_000);
    expect(readFileSync(join(ROOT, "dist/cli/crabbox.mjs"), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
  });

  it("prints help with the exit codes", async () => {
    const result = await runCli(["--help"], { configDir: tempDir() });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Exit codes: 0 ok/);
  });
});
