// Fidelity: the real kubectl drives the Sealos emulator through a TLS front (kubectl sends a
// bearer token only over TLS, as a real API server is served): create from the adapter's own
// manifest (kubectl asks for fieldValidation=Strict), get, merge-patch, delete through the
// finalizer, and the apiserver's error texts. Skipped with a message where kubectl or openssl
// is absent; the emulator validates against the real CRD when the contracts are beside the repo.
import { execFile, execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devboxManifest } from "../../../../src/providers/sealos/adapter";
import { readSettings } from "../../../../src/providers/sealos/settings";
import { startSealosEmulator, type SealosEmulator } from "../../../emulators/sealos/index.ts";
import { tempDir } from "../../cli/helpers/run-cli";

const run = promisify(execFile);
const has = (command: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const missing = ["kubectl", "openssl"].filter((c) => !has(c));
if (missing.length) console.warn(`[sealos kubectl fidelity] skipped: ${missing.join(" and ")} not on PATH`);

const TOKEN = "sealos_kubectl-test-token-01";
const NS = "ns-kubectl";

describe.skipIf(missing.length > 0)("the real kubectl against the Sealos emulator", () => {
  let emulator: SealosEmulator;
  let front: tls.Server;
  let dir: string;
  let kubeconfig: string;
  const kubectl = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run("kubectl", ["--kubeconfig", kubeconfig, ...args], { timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  };

  beforeAll(async () => {
    dir = tempDir("crabbox-kubectl-");
    emulator = await startSealosEmulator({ tokens: { [TOKEN]: NS } });
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
    const cert = readFileSync(join(dir, "cert.pem"));
    front = tls.createServer({ key: readFileSync(join(dir, "key.pem")), cert }, (socket) => {
      const upstream = net.connect(emulator.port, "127.0.0.1");
      socket.pipe(upstream).pipe(socket);
      socket.on("error", () => upstream.destroy());
      upstream.on("error", () => socket.destroy());
    });
    const port = await new Promise<number>((resolve) => front.listen(0, "127.0.0.1", () => resolve((front.address() as net.AddressInfo).port)));
    kubeconfig = join(dir, "kubeconfig.json");
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "emulated", cluster: { server: `https://127.0.0.1:${port}`, "certificate-authority-data": cert.toString("base64") } }],
        users: [{ name: "crabbox", user: { token: TOKEN } }],
        contexts: [{ name: "emulated", context: { cluster: "emulated", user: "crabbox", namespace: NS } }],
        "current-context": "emulated",
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await new Promise<void>((done) => (front ? front.close(() => done()) : done()));
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates the adapter's DevBox (strictly validated), gets, merge-patches and deletes it", async () => {
    if (process.env.CRABBOX_CONTRACTS_DIR) expect(emulator.schemaSource).toContain("devbox.sealos.io_devboxes.v1alpha2.yaml");
    // The SEALOS_KUBECONFIG form the adapter reads: the JSON kubectl itself writes.
    const settings = readSettings({ deploymentId: "team-dev", vars: { SEALOS_KUBECONFIG: readFileSync(kubeconfig, "utf8"), SEALOS_IMAGE: "ghcr.io/labring-actions/devbox/ubuntu-22.04:v1", SEALOS_SSH_HOST: "ssh.example.test" } });
    expect([settings.problems, settings.namespace, settings.token]).toEqual([[], NS, TOKEN]);
    const spec = { leaseId: "kubectllease0001", deploymentId: "team-dev", owner: "alice", sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice" };
    const manifest = devboxManifest(settings, spec, "cb-kubectl-lease0001");
    writeFileSync(join(dir, "devbox.json"), JSON.stringify(manifest));

    expect(await kubectl("create", "-f", join(dir, "devbox.json"))).toMatchObject({ code: 0, stdout: "devbox.devbox.sealos.io/cb-kubectl-lease0001 created\n" });
    const state = (await (await fetch(`${emulator.url}/_emulator/state`)).json()) as { requests: { method: string; query: Record<string, string> }[] };
    const create = state.requests.find((r) => r.method === "POST");
    expect(create?.query).toMatchObject({ fieldManager: "kubectl-create", fieldValidation: "Strict" });

    const got = JSON.parse((await kubectl("get", "devbox", "cb-kubectl-lease0001", "-o", "json")).stdout);
    expect(got).toMatchObject({ metadata: { labels: manifest.metadata.labels, finalizers: ["devbox.sealos.io/finalizer"] }, spec: { state: "Running", config: { user: "devbox", workingDir: "/home/devbox/project" } }, status: { phase: "Running" } });
    expect((await kubectl("get", "devboxes")).stdout).toMatch(/^NAME\s+AGE\ncb-kubectl-lease0001\s+\d+s\n$/);

    expect(await kubectl("patch", "devbox", "cb-kubectl-lease0001", "--type=merge", "-p", '{"spec":{"state":"Paused"}}')).toMatchObject({ code: 0 });
    expect(JSON.parse((await kubectl("get", "devbox", "cb-kubectl-lease0001", "-o", "json")).stdout).status).toMatchObject({ state: "Paused", phase: "Paused" });
    const unsupported = await kubectl("patch", "devbox", "cb-kubectl-lease0001", "--type=merge", "-p", '{"spec":{"state":"Sleeping"}}');
    expect(unsupported.stderr).toContain('spec.state: Unsupported value: "Sleeping"');

    expect(await kubectl("delete", "devbox", "cb-kubectl-lease0001")).toMatchObject({ code: 0, stdout: 'devbox.devbox.sealos.io "cb-kubectl-lease0001" deleted\n' });
    expect((await kubectl("get", "devbox", "cb-kubectl-lease0001")).stderr).toContain('Error from server (NotFound): devboxes.devbox.sealos.io "cb-kubectl-lease0001" not found');
    expect((await kubectl("get", "secrets", "-o", "name")).stdout).toBe("");
  });

  it("refuses a field the CRD does not declare, and another namespace", async () => {
    writeFileSync(join(dir, "extra.json"), JSON.stringify({ apiVersion: "devbox.sealos.io/v1alpha2", kind: "Devbox", metadata: { name: "extra" }, spec: { state: "Running", resource: {}, image: "i", network: { type: "SSHGate" }, config: {}, sshKeys: ["x"] } }));
    expect((await kubectl("create", "-f", join(dir, "extra.json"))).stderr).toContain('strict decoding error: unknown field "spec.sshKeys"');
    expect((await kubectl("get", "devboxes", "-n", "ns-someone-else")).stderr).toContain("Forbidden");
  });
});
