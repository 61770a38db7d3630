// Where the URL and token come from (flag > env > file), login's checks and file modes, logout.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type World, onlyJson, startWorld } from "./helpers/world";
import { closedPortUrl, runCli, tempDir } from "./helpers/run-cli";

let world: World;
let deadUrl: string; // nothing listens there: picking it by mistake fails the test loudly
beforeEach(async () => {
  world = await startWorld();
  deadUrl = await closedPortUrl();
  world.api.tokens.set("file-token", { owner: "from-file", role: "user", tokenId: "tok_file" });
  world.api.tokens.set("env-token", { owner: "from-env", role: "user", tokenId: "tok_env" });
  world.api.tokens.set("flag-token", { owner: "from-flag", role: "user", tokenId: "tok_flag" });
});
afterEach(async () => {
  await world.stop();
});

const whoami = async (args: string[], env: Record<string, string | undefined>) => {
  const result = await world.run(["whoami", "--json", ...args], { env: { CRABBOX_URL: undefined, CRABBOX_TOKEN: undefined, ...env } });
  expect(result.stderr).toBe("");
  return onlyJson(result.stdout) as { owner: string; sources: { url: string; token: string } };
};

describe("credentials precedence", () => {
  beforeEach(() => {
    writeFileSync(join(world.configDir, "config.json"), JSON.stringify({ url: world.api.url, token: "file-token" }));
  });

  it("uses the config file when nothing overrides it", async () => {
    expect(await whoami([], {})).toMatchObject({ owner: "from-file", sources: { url: "file", token: "file" } });
  });

  it("environment beats the file", async () => {
    writeFileSync(join(world.configDir, "config.json"), JSON.stringify({ url: deadUrl, token: "file-token" }));
    const me = await whoami([], { CRABBOX_URL: world.api.url, CRABBOX_TOKEN: "env-token" });
    expect(me).toMatchObject({ owner: "from-env", sources: { url: "env", token: "env" } });
  });

  it("flags beat the environment", async () => {
    const me = await whoami(["--url", world.api.url, "--token", "flag-token"], { CRABBOX_URL: deadUrl, CRABBOX_TOKEN: "env-token" });
    expect(me).toMatchObject({ owner: "from-flag", sources: { url: "flag", token: "flag" } });
  });

  it("global flags also work before the command", async () => {
    const result = await world.run(["--token", "flag-token", "whoami", "--json"]);
    expect((onlyJson(result.stdout) as { owner: string }).owner).toBe("from-flag");
  });
});

describe("crabbox login / logout", () => {
  const noEnv = { CRABBOX_URL: undefined, CRABBOX_TOKEN: undefined };

  it("checks the token, then saves it in a 0600 file in a 0700 dir", async () => {
    const configDir = join(tempDir(), "nested", "crabbox");
    const result = await runCli(["login", "--url", `${world.api.url}/`], { configDir, input: "user-token\n" });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Logged in to .* as alice/);
    expect(world.api.requestsTo("GET", /^\/v1\/whoami$/)[0]?.token).toBe("user-token");
    const file = join(configDir, "config.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(configDir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ url: world.api.url, token: "user-token" });
  });

  it("saves nothing when the coordinator rejects the token (exit 3)", async () => {
    const result = await world.run(["login", "--url", world.api.url], { input: "bad-token\n", env: noEnv });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/\(unauthorized\)/);
    expect(existsSync(join(world.configDir, "config.json"))).toBe(false);
  });

  it("finds its directory under XDG_CONFIG_HOME when CRABBOX_CONFIG_DIR is unset", async () => {
    const xdg = tempDir();
    const result = await runCli(["login", "--url", world.api.url], {
      configDir: world.configDir,
      input: "user-token",
      env: { CRABBOX_CONFIG_DIR: undefined, XDG_CONFIG_HOME: xdg },
    });
    expect(result.code).toBe(0);
    expect(statSync(join(xdg, "crabbox", "config.json")).mode & 0o777).toBe(0o600);
  });

  it("logout forgets the token and keeps the URL", async () => {
    mkdirSync(world.configDir, { recursive: true });
    writeFileSync(join(world.configDir, "config.json"), JSON.stringify({ url: world.api.url, token: "file-token" }));
    const result = await world.run(["logout", "--json"], { env: noEnv });
    expect(onlyJson(result.stdout)).toMatchObject({ loggedOut: true });
    expect(JSON.parse(readFileSync(join(world.configDir, "config.json"), "utf8"))).toEqual({ url: world.api.url });
    expect((await world.run(["list"], { env: noEnv })).code).toBe(3);
  });
});
