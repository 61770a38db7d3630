// `npm start`: the whole thing locally (coordinator on workerd with local DO and D1, emulated
// clouds with real SSH machines, a dev token), and how to point the CLI at it. Ctrl-C stops all.
// Env: CRABBOX_PORT (8787), CRABBOX_EMULATOR_PORT, CRABBOX_ACK_DEADLINE. Real credentials in
// .dev.vars (LAMBDA_API_KEY, VAST_API_KEY, FAL_KEY, CODER_URL + CODER_SESSION_TOKEN,
// SEALOS_API_SERVER + SEALOS_TOKEN or SEALOS_KUBECONFIG) switch
// that provider to its real API.
import { rm } from "node:fs/promises";
import { startStack, writeStackFile } from "./stack.mjs";

const [major = 0] = process.versions.node.split(".").map(Number);
if (major < 22) {
  console.error(`Node ${process.versions.node} is too old for the local stack: run it with \`npm start\` (Node 22 from devDependencies).`);
  process.exit(1);
}

function describe(stack, stackFile) {
  const lambda = stack.realLambda
    ? "Lambda: REAL API (LAMBDA_API_KEY from .dev.vars) — launches bill your account"
    : `Lambda: emulator at ${stack.emulator.lambda.apiBase} (machines on 127.10.x.y, SSH port ${stack.emulator.lambda.sshPort})`;
  const vast = stack.realVast
    ? "Vast.ai: REAL API (VAST_API_KEY from .dev.vars) — rentals bill your account"
    : `Vast.ai: emulator at ${stack.emulator.vast.url} (machines on 127.11.x.y, SSH port ${stack.emulator.vast.sshPort}, user root)`;
  const fal = stack.realFal
    ? "fal: REAL API (FAL_KEY from .dev.vars) — instances bill your account"
    : `fal: emulator at ${stack.emulator.fal.apiBase} (machines on 127.12.x.y, SSH port ${stack.emulator.fal.sshPort}, user ubuntu)`;
  const coder = stack.realCoder
    ? "Coder: REAL deployment (CODER_URL from .dev.vars)"
    : `Coder: emulator at ${stack.emulator.coder.url} (template docker-dev)`;
  const sealos = stack.realSealos
    ? "Sealos: REAL cluster (SEALOS_* from .dev.vars) — DevBoxes bill your account"
    : `Sealos: emulator at ${stack.emulator.sealos.url} (namespace ${stack.emulator.sealos.namespace}, SSHGate ${stack.emulator.sealos.sshHost}:${stack.emulator.sealos.sshPort}, user devbox)`;
  return [
    "",
    "crabbox is running",
    `  coordinator   ${stack.url}`,
    `  web console   ${stack.url}/   (sign in with a token below)`,
    `  dev token     ${stack.token}   (owner "dev", role user)`,
    `  admin token   ${stack.adminToken}${stack.adminTokenFromDevVars ? "   (CRABBOX_ADMIN_TOKEN from .dev.vars)" : ""}`,
    `  ${lambda}`,
    `  ${vast}`,
    `  ${fal}`,
    `  ${coder}`,
    `  ${sealos}`,
    `  written to    ${stackFile}`,
    "",
    "Point the CLI at it:",
    `  export CRABBOX_URL=${stack.url} CRABBOX_TOKEN=${stack.token}`,
    "  npx crabbox acquire --provider lambda",
    "  npx crabbox acquire --provider vast     # type 1x_RTX_4090 by default",
    "  npx crabbox acquire --provider fal      # gpu_1x_h100_sxm5 by default",
    ...(stack.realCoder
      ? []
      : [
          "  # Coder workspaces are reached through the client's `coder` CLI; the emulator's stand-in:",
          `  export PATH="$PWD/test/emulators/coder/bin:$PATH" CODER_URL=${stack.emulator.coder.url} CODER_SESSION_TOKEN=coder-user-dev`,
          "  npx crabbox acquire --provider coder",
        ]),
    "  npx crabbox acquire --provider sealos   # a DevBox, reached through SSHGate",
    "",
    "Or talk to the API directly:",
    `  curl -s -H "Authorization: Bearer ${stack.token}" ${stack.url}/v1/leases`,
    "",
    "Type r and Enter here to crash the coordinator (kill -9) and restart it on the same state;",
    "the emulators and their machines keep running. Ctrl-C stops everything.",
    "",
  ].join("\n");
}

let stack;
let stackFile;
let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  process.stderr.write("\nstopping the local stack...\n");
  await stack?.stop();
  if (stackFile) await rm(stackFile, { force: true });
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
// npm does not forward SIGTERM to its child: if whoever ran `npm start` goes away, stop too
// rather than leave workerd and the emulated machines running.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void shutdown(0);
}, 1_000).unref();

try {
  stack = await startStack();
  stackFile = await writeStackFile(stack);
  process.stdout.write(describe(stack, stackFile));
  // `r` + Enter: the coordinator crashes (its process group, -9) and comes back on the same
  // persisted state, port and tokens, as after a real crash.
  let restarting = false;
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", async (text) => {
    if (text.trim() !== "r" || restarting || stopping) return;
    restarting = true;
    try {
      await stack.restartCoordinator();
      process.stderr.write(`coordinator restarted on ${stack.url}\n`);
    } catch (err) {
      console.error(`restart failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      restarting = false;
    }
  });
} catch (err) {
  console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(1);
}
