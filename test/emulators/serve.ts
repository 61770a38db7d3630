// Standalone emulator server for the local stack (`npm start`, `npm run emulators`): starts every
// emulator in EMULATORS, prints ONE JSON line on stdout when all are ready, e.g.
// {"lambda":{"url":"http://127.0.0.1:P","apiBase":"http://127.0.0.1:P/api/v1","sshPort":S,"apiKey":"..."}},
// and stops everything (SSH servers included) on SIGINT/SIGTERM.
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { startLambdaEmulator } from "./lambda/index.ts";
import { startCoderEmulator } from "./coder/index.ts";
import { startFalEmulator } from "./fal/index.ts";
import { startSealosEmulator } from "./sealos/index.ts";
import { startVastEmulator } from "./vast/index.ts";

const USAGE = `usage: node test/emulators/serve.ts [--port N] [--ssh-port N] [--api-key KEY]
  [--boot-ms MS] [--terminate-ms MS] [--launch-interval-ms MS]
  Lambda takes the flags below; the other emulators take free ports, the same --api-key and
  --boot-ms, and print their own url and sshPort.
  --port                Lambda emulator HTTP port on 127.0.0.1 (default 0: a free port)
  --ssh-port            SSH port of every Lambda machine (default: a free port)
  --api-key             Lambda API key the emulator accepts (default: random, printed)
  --boot-ms             how long a machine boots (default 3000, for realism)
  --terminate-ms        how long a machine terminates (default 1000)
  --launch-interval-ms  launch rate limit (default 12000, like the real API)`;

const BOOT_MS_DEFAULT = 3000;
const TERMINATE_MS_DEFAULT = 1000;

type Flags = Record<string, string | undefined>;

function num(flags: Flags, name: string, fallback: number | undefined): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be an integer >= 0`);
  return value;
}

interface Running {
  info: Record<string, unknown>;
  close(): Promise<void>;
}

/** One row per provider emulator; the others (Vast, fal, Coder, Sealos) join this table. */
const EMULATORS: { name: string; start(flags: Flags): Promise<Running> }[] = [
  {
    name: "lambda",
    async start(flags) {
      const apiKey = flags["api-key"] ?? `secret_emulator-${randomBytes(12).toString("hex")}`;
      const emulator = await startLambdaEmulator({
        apiKey,
        port: num(flags, "port", 0),
        sshPort: num(flags, "ssh-port", undefined),
        bootMs: num(flags, "boot-ms", BOOT_MS_DEFAULT),
        terminateMs: num(flags, "terminate-ms", TERMINATE_MS_DEFAULT),
        launchIntervalMs: num(flags, "launch-interval-ms", undefined),
      });
      return {
        info: { url: emulator.url, apiBase: emulator.apiBase, sshPort: emulator.sshPort, apiKey },
        close: () => emulator.close(),
      };
    },
  },
  {
    name: "vast",
    async start(flags) {
      const apiKey = flags["api-key"] ?? `vast_emulator-${randomBytes(12).toString("hex")}`;
      const emulator = await startVastEmulator({ apiKey, bootMs: num(flags, "boot-ms", BOOT_MS_DEFAULT) });
      return { info: { url: emulator.url, sshPort: emulator.sshPort, apiKey }, close: () => emulator.close() };
    },
  },
  {
    name: "fal",
    async start(flags) {
      const apiKey = flags["api-key"] ?? `fal_emulator-${randomBytes(12).toString("hex")}`;
      const emulator = await startFalEmulator({ apiKey, bootMs: num(flags, "boot-ms", BOOT_MS_DEFAULT) });
      return { info: { url: emulator.url, apiBase: emulator.apiBase, sshPort: emulator.sshPort, apiKey }, close: () => emulator.close() };
    },
  },
  {
    name: "coder",
    async start(flags) {
      const adminToken = flags["api-key"] ?? `coder_emulator-${randomBytes(12).toString("hex")}`;
      const emulator = await startCoderEmulator({ adminToken, buildMs: num(flags, "boot-ms", BOOT_MS_DEFAULT) });
      return { info: { url: emulator.url, sshPort: emulator.sshPort, apiKey: adminToken, template: "docker-dev" }, close: () => emulator.close() };
    },
  },
  {
    name: "sealos",
    async start(flags) {
      // A Sealos user's kubeconfig token, bound to its one namespace.
      const token = flags["api-key"] ?? `sealos_emulator-${randomBytes(12).toString("hex")}`;
      const namespace = "ns-crabbox";
      const emulator = await startSealosEmulator({ tokens: { [token]: namespace }, bootMs: num(flags, "boot-ms", BOOT_MS_DEFAULT) });
      return {
        info: { url: emulator.url, apiKey: token, namespace, sshHost: emulator.gatewayHost, sshPort: emulator.sshPort, nodeHost: emulator.nodeHost, image: "ghcr.io/labring-actions/devbox/ubuntu-22.04:emulated" },
        close: () => emulator.close(),
      };
    },
  },
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      "ssh-port": { type: "string" },
      "api-key": { type: "string" },
      "boot-ms": { type: "string" },
      "terminate-ms": { type: "string" },
      "launch-interval-ms": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const flags = values as Flags;
  const running: Running[] = [];
  const stop = async (code: number) => {
    await Promise.allSettled(running.map((r) => r.close()));
    process.exit(code);
  };
  process.once("SIGINT", () => void stop(0));
  process.once("SIGTERM", () => void stop(0));
  const ready: Record<string, unknown> = {};
  try {
    for (const emulator of EMULATORS) {
      const started = await emulator.start(flags);
      running.push(started);
      ready[emulator.name] = started.info;
    }
  } catch (err) {
    console.error(`emulators: ${(err as Error).message}`);
    await stop(1);
  }
  process.stdout.write(JSON.stringify(ready) + "\n");
}

main().catch((err: Error) => {
  console.error(`emulators: ${err.message}\n${USAGE}`);
  process.exit(2);
});
