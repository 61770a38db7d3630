// `crabbox run` end to end: the BUILT CLI against the local stack, on a direct-routed Lambda
// machine and a Vast one: the working tree shipped with rsync (git's view of it), the remote exit
// code passed through, the lease given back per --stop-after, only changes sent on a second run
// (and files deleted here removed there),
// environment passed without showing its value, and SIGTERM stopping the command and releasing.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Lease } from "../../src/contract/lease";
import { startStack } from "../../scripts/stack.mjs";
import { assertBuilt, closedPortUrl, runCli, startCli, tempDir } from "../node/cli/helpers/run-cli";

type Stack = Awaited<ReturnType<typeof startStack>>;

describe("crabbox run against the local stack", () => {
  let stack: Stack;
  let configDir: string;
  let persistTo: string;
  let tree: string;
  const output: string[] = [];
  const env = () => ({ CRABBOX_URL: stack.url, CRABBOX_TOKEN: stack.token, RUN_SECRET: "s3cr3t-value-41" });
  const crabbox = (args: string[]) => runCli(args, { configDir, env: env(), timeoutMs: 180_000 });
  const live = async (emulator: "lambda" | "vast") => {
    const state = (await (await fetch(`${stack.emulator[emulator].url}/_emulator/state`)).json()) as { instances: { status?: string }[] };
    return state.instances.filter((i) => i.status !== "terminated");
  };

  beforeAll(async () => {
    assertBuilt();
    configDir = tempDir("crabbox-run-e2e-");
    persistTo = tempDir("crabbox-run-e2e-state-");
    tree = tempDir("crabbox-run-tree-");
    // A git checkout: a tracked file, an untracked one, and one .gitignore excludes.
    execFileSync("git", ["init", "-q", tree]);
    writeFileSync(join(tree, ".gitignore"), "secret.txt\n");
    writeFileSync(join(tree, "marker"), "tracked\n");
    mkdirSync(join(tree, "src"));
    writeFileSync(join(tree, "src", "main.sh"), "echo main\n");
    writeFileSync(join(tree, "secret.txt"), "do not ship\n");
    execFileSync("git", ["-C", tree, "add", ".gitignore", "marker"]);
    const port = Number(new URL(await closedPortUrl()).port);
    stack = await startStack({
      port,
      persistTo,
      bootMs: 300,
      launchIntervalMs: 0,
      onOutput: (source: string, line: string) => output.push(`[${source}] ${line}`),
      log: (message: string) => output.push(message),
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    for (const dir of [configDir, persistTo, tree]) rmSync(dir, { recursive: true, force: true });
  });

  it("ships git's view of the tree, passes the exit code through, and releases the lease it acquired", async () => {
    const res = await crabbox(["run", "--provider", "lambda", "--sync", tree, "--json", "--", "sh", "-c", "test -f marker && test -f src/main.sh && test ! -f secret.txt && exit 7"]);
    if (res.code !== 7) throw new Error(`run exited ${res.code}: ${res.stderr}\n${output.slice(-30).join("\n")}`);
    const result = JSON.parse(res.stdout);
    expect(result).toMatchObject({ exitCode: 7, released: true, lease: { provider: "lambda", state: "released" } });
    expect(result.sync.filesTransferred).toBe(3); // .gitignore, marker, src/main.sh
    expect(await live("lambda")).toEqual([]);
  });

  it("keeps the lease with --stop-after never, sends only changes on the next run, and the printed release command works", async () => {
    writeFileSync(join(tree, "old.txt"), "deleted before the second run\n");
    const first = await crabbox(["run", "--provider", "vast", "--sync", tree, "--stop-after", "never", "--env", "RUN_SECRET", "--", "sh", "-c", 'test "$RUN_SECRET" = s3cr3t-value-41 && echo "$USER" && cat marker && touch made-there']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe("root\ntracked\n");
    expect(`${first.stdout}${first.stderr}`).not.toContain("s3cr3t-value-41");
    const releaseLine = /crabbox release (\S+)/.exec(first.stderr);
    expect(releaseLine, first.stderr).not.toBeNull();
    const slug = releaseLine![1]!;

    writeFileSync(join(tree, "marker"), "changed\n");
    rmSync(join(tree, "old.txt"));
    // A file deleted here is gone there too; what the command made there stays.
    const second = await crabbox(["run", "--lease", slug, "--sync", tree, "--json", "--", "sh", "-c", "test ! -e old.txt && test -f made-there && cat marker"]);
    expect(second.code, second.stderr).toBe(0);
    const result = JSON.parse(second.stdout);
    expect(result).toMatchObject({ exitCode: 0, released: false, durationsMs: { acquire: 0 } });
    expect(result.sync).toMatchObject({ filesTransferred: 1, deleted: 1 });
    expect(second.stderr).toContain("changed");

    // cp, both directions, with rsync over the lease's SSH.
    const back = join(tree, "..", `${slug}-copied`);
    expect((await crabbox(["cp", `${slug}:crabbox/${slug}/marker`, back])).code).toBe(0);
    expect(execFileSync("cat", [back], { encoding: "utf8" })).toBe("changed\n");
    rmSync(back, { force: true });
    const up = await crabbox(["cp", join(tree, "src"), `${slug}:uploaded`, "--json"]);
    expect(JSON.parse(up.stdout)).toMatchObject({ filesTransferred: 1 });
    // rsync semantics: a directory without a trailing slash lands inside the destination.
    expect((await crabbox(["ssh", slug, "--", "cat", "uploaded/src/main.sh"])).stdout).toBe("echo main\n");

    const pasted = await crabbox(["release", slug]);
    expect(pasted.code).toBe(0);
    expect((await crabbox(["status", slug, "--json"])).stdout).toMatch(/"state": "released"/);
    expect(await live("vast")).toEqual([]);
  });

  it("a boot script given with --user-data runs before the machine is ready; its marker is there over SSH", async () => {
    const script = join(tree, "..", "boot.sh");
    writeFileSync(script, "#!/bin/sh\necho booted-by-user-data > \"$HOME/booted\"\n");
    const res = await crabbox(["run", "--provider", "lambda", "--user-data", script, "--no-sync", "--", "sh", "-c", 'cat "$HOME/booted"']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe("booted-by-user-data\n");
    rmSync(script, { force: true });
    expect(await live("lambda")).toEqual([]);
  });

  it("SIGTERM during the remote command stops it and releases the lease", async () => {
    const { child, done } = startCli(["run", "--provider", "lambda", "--no-sync", "--", "sh", "-c", "echo started; sleep 60"], { configDir, env: env() });
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    for (let i = 0; i < 300 && !stdout.includes("started"); i++) await new Promise((r) => setTimeout(r, 100));
    expect(stdout).toContain("started");
    child.kill("SIGTERM");
    const result = await done;
    expect(result.code).toBe(143);
    expect(await live("lambda")).toEqual([]);
    const leases = (await (await fetch(`${stack.url}/v1/leases`, { headers: { authorization: `Bearer ${stack.token}` } })).json()) as { leases: Lease[] };
    expect(leases.leases.filter((l) => l.state !== "released")).toEqual([]);
  }, 120_000);
});
