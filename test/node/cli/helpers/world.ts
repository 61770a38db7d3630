// One test's world: a fake coordinator, a real SSH server for its leases, and a private config dir
// with the CLI pointed at them through CRABBOX_URL / CRABBOX_TOKEN.
import { rmSync } from "node:fs";
import { FakeCoordinator } from "./fake-coordinator";
import { type FakeSshd, startFakeSshd } from "./fake-sshd";
import { type RunOptions, type RunResult, assertBuilt, runCli, startCli, tempDir } from "./run-cli";

export interface World {
  api: FakeCoordinator;
  sshd: FakeSshd;
  configDir: string;
  env: Record<string, string>;
  run(args: string[], options?: Partial<RunOptions>): Promise<RunResult>;
  start(args: string[], options?: Partial<RunOptions>): ReturnType<typeof startCli>;
  stop(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  assertBuilt();
  const api = await new FakeCoordinator().start();
  const sshd = await startFakeSshd({ user: "ubuntu", authorizedKeys: () => api.publicKeys.values() });
  api.endpoint = { kind: "ssh", host: "127.0.0.1", port: sshd.port, user: "ubuntu" };
  const configDir = tempDir();
  const env = { CRABBOX_URL: api.url, CRABBOX_TOKEN: "user-token" };
  const options = (extra: Partial<RunOptions> = {}): RunOptions => ({ ...extra, configDir, env: { ...env, ...extra.env } });
  return {
    api,
    sshd,
    configDir,
    env,
    run: (args, extra) => runCli(args, options(extra)),
    start: (args, extra) => startCli(args, options(extra)),
    async stop() {
      await Promise.all([api.stop(), sshd.close()]);
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}

/** Parses stdout as exactly one JSON document (fails the test on any other byte). */
export function onlyJson(stdout: string): unknown {
  return JSON.parse(stdout);
}
