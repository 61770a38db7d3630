// One case per exit code class (cli/EXIT_CODES.md), each also checked for the error's shape:
// `crabbox: <message> (<code>)` on stderr, and with --json only {"error": {...}} on stdout.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import type { Lease } from "../../../src/contract/lease";
import { closedPortUrl } from "./helpers/run-cli";
import { type World, onlyJson, startWorld } from "./helpers/world";

let world: World;
let lease: Lease;
let deadUrl: string;
beforeAll(async () => {
  world = await startWorld();
  deadUrl = await closedPortUrl();
  const acquired = await world.run(["acquire", "--provider", "lambda", "--json"]);
  lease = onlyJson(acquired.stdout) as Lease;
});
afterAll(async () => {
  await world.stop();
});

interface Case {
  name: string;
  args: () => string[];
  env?: Record<string, string>;
  arrange?: () => void;
  exit: number;
  code: string;
}

const cases: Case[] = [
  { name: "usage: unknown option", args: () => ["list", "--bogus"], exit: 2, code: "usage" },
  { name: "usage: missing --provider", args: () => ["acquire"], exit: 2, code: "usage" },
  { name: "usage: bad duration", args: () => ["acquire", "--provider", "lambda", "--ttl", "2 hours"], exit: 2, code: "usage" },
  {
    name: "usage: the API rejects the request",
    args: () => ["acquire", "--provider", "nope"],
    arrange: () => world.api.fail("POST", /^\/v1\/leases$/, 400, "unknown_provider"),
    exit: 2,
    code: "unknown_provider",
  },
  { name: "auth: token rejected", args: () => ["whoami"], env: { CRABBOX_TOKEN: "wrong" }, exit: 3, code: "unauthorized" },
  { name: "auth: admin route as a user", args: () => ["admin", "token", "list"], exit: 3, code: "forbidden" },
  { name: "auth: not logged in", args: () => ["list"], env: { CRABBOX_URL: "", CRABBOX_TOKEN: "" }, exit: 3, code: "not_logged_in" },
  { name: "not found: unknown lease", args: () => ["status", "no-such-lease"], exit: 4, code: "not_found" },
  {
    name: "timeout: --wait runs out",
    args: () => ["status", lease.slug, "--wait", "parked", "--timeout", "1s"],
    exit: 5,
    code: "timeout",
  },
  {
    name: "quota: over the cap",
    args: () => ["acquire", "--provider", "lambda"],
    arrange: () => world.api.fail("POST", /^\/v1\/leases$/, 429, "quota_exceeded"),
    exit: 6,
    code: "quota_exceeded",
  },
  { name: "connection: coordinator unreachable", args: () => ["whoami"], env: { CRABBOX_URL: "DEAD_URL" }, exit: 7, code: "connection_failed" },
  {
    name: "lease: conflict",
    args: () => ["touch", lease.slug],
    arrange: () => world.api.fail("POST", /\/touch$/, 409, "lease_conflict"),
    exit: 8,
    code: "lease_conflict",
  },
  {
    name: "server: provider error",
    args: () => ["providers"],
    arrange: () => world.api.fail("GET", /^\/v1\/providers$/, 500, "provider_error"),
    exit: 9,
    code: "provider_error",
  },
  {
    name: "bug: an answer that breaks the contract",
    args: () => ["whoami"],
    arrange: () => world.api.fail("GET", /^\/v1\/whoami$/, 200, undefined, "<html>hello</html>"),
    exit: 1,
    code: "unexpected_response",
  },
];

describe("exit codes", () => {
  for (const entry of cases) {
    it(`${entry.name} → ${entry.exit}`, async () => {
      entry.arrange?.();
      const env = entry.env && Object.fromEntries(Object.entries(entry.env).map(([key, value]) => [key, value === "DEAD_URL" ? deadUrl : value]));
      const plain = await world.run(entry.args(), { env });
      expect(plain.code).toBe(entry.exit);
      expect(plain.stdout).toBe("");
      expect(plain.stderr).toMatch(new RegExp(`^crabbox: .+ \\(${entry.code}\\)`, "m"));

      entry.arrange?.();
      const json = await world.run([...entry.args(), "--json"], { env });
      expect(json.code).toBe(entry.exit);
      expect(onlyJson(json.stdout)).toMatchObject({ error: { code: entry.code, message: expect.any(String) } });
    });
  }

  it("doctor exits 9 when a provider check fails", async () => {
    const result = await world.run(["doctor", "--provider", "broken"]);
    expect(result.code).toBe(9);
    expect(result.stdout).toMatch(/broken: problems found/);
  });

  it("doctor checks that a proxy provider's command is on this client's PATH", async () => {
    const missing = await world.run(["doctor", "--provider", "coder"], { env: { PATH: "/usr/bin:/bin" } });
    expect(missing.code).toBe(9);
    expect(missing.stdout).toMatch(/coder is not on PATH/);
    const standIn = join(process.cwd(), "test/emulators/coder/bin");
    const found = await world.run(["doctor", "--provider", "coder", "--json"], { env: { PATH: `${standIn}:/usr/bin:/bin` } });
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout).reports[0].checks).toContainEqual(expect.objectContaining({ name: "client: proxy command", status: "ok" }));
  });
});
