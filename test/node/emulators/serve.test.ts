// The standalone emulator server (what `npm start` runs): one JSON line when ready, a working
// Lambda API with real SSH machines, and nothing left listening after SIGTERM.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { isListening, makeKeyPair, scratchDir, ssh } from "./ssh-client.ts";

const SERVE = join(import.meta.dirname, "../../emulators/serve.ts");

describe("test/emulators/serve.ts", () => {
  it("prints one JSON line when ready and stops everything on SIGTERM", async () => {
    const child = spawn(
      process.execPath,
      ["--experimental-strip-types", "--no-warnings", SERVE, "--api-key", "k", "--boot-ms", "0", "--launch-interval-ms", "0"],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const firstLine = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once("line", resolve));
    const ready = JSON.parse(firstLine);
    expect(ready).toEqual({
      lambda: { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), apiBase: expect.stringMatching(/\/api\/v1$/), sshPort: expect.any(Number), apiKey: "k" },
      vast: { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), sshPort: expect.any(Number), apiKey: "k" },
      fal: { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), apiBase: expect.stringMatching(/\/v1$/), sshPort: expect.any(Number), apiKey: "k" },
      coder: { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), sshPort: expect.any(Number), apiKey: "k", template: "docker-dev" },
      sealos: { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), apiKey: "k", namespace: "ns-crabbox", sshHost: "127.14.0.1", sshPort: expect.any(Number), nodeHost: "127.14.0.2", image: expect.any(String) },
    });

    const { apiBase, sshPort } = ready.lambda;
    const headers = { authorization: "Bearer k", "content-type": "application/json" };
    const dir = await scratchDir();
    const key = await makeKeyPair(dir, "lease");
    await fetch(`${apiBase}/ssh-keys`, { method: "POST", headers, body: JSON.stringify({ name: "k1", public_key: key.publicKey }) });
    const launched = await fetch(`${apiBase}/instance-operations/launch`, {
      method: "POST",
      headers,
      body: JSON.stringify({ region_name: "us-east-1", instance_type_name: "gpu_1x_a10", ssh_key_names: ["k1"] }),
    });
    const id = ((await launched.json()) as any).data.instance_ids[0];
    const { ip } = ((await (await fetch(`${apiBase}/instances/${id}`, { headers })).json()) as any).data;
    const target = { host: ip, port: sshPort, user: "ubuntu", key, knownHosts: join(dir, "known_hosts") };
    expect(await ssh(target, { command: "echo up" })).toMatchObject({ code: 0, stdout: "up\n" });

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(await isListening(ip, sshPort)).toBe(false);
    expect(await isListening("127.0.0.1", Number(new URL(apiBase).port))).toBe(false);
    expect(await isListening("127.0.0.1", Number(new URL(ready.vast.url).port))).toBe(false);
  });
});
