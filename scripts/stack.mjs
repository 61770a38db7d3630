// The local stack behind `npm start`, the end-to-end tests and `npm run bench`: local D1
// migrations, the provider emulators (test/emulators/serve.ts), the coordinator under
// `wrangler dev`, and a dev token.
// startStack() resolves once the coordinator answers /v1/health; stop() ends every process.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import net from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDevVars, runToEnd, startGroup } from "./stack-process.mjs";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const HOST = "127.0.0.1";
const EMULATOR_READY_TIMEOUT_MS = 30_000;
const HEALTH_TIMEOUT_MS = 90_000;
const HEALTH_POLL_MS = 250;
// Offline, and without wrangler dev's local request tracing: it writes and fsyncs a trace of
// every request (production does not), which doubled workerd's CPU per request in `npm run bench`.
const OFFLINE_ENV = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", X_LOCAL_OBSERVABILITY: "false" };

/**
 * @typedef {object} StackOptions
 * @property {number} [port] coordinator port (env CRABBOX_PORT, default 8787)
 * @property {number} [emulatorPort] Lambda emulator HTTP port (env CRABBOX_EMULATOR_PORT, default: free)
 * @property {string} [ackDeadline] DEFAULT_ACK_DEADLINE override, e.g. "20s" (env CRABBOX_ACK_DEADLINE)
 * @property {number} [bootMs] emulated machine boot time (serve.ts default: 3000)
 * @property {number} [launchIntervalMs] emulated launch throttle (serve.ts default: 12000)
 * @property {number} [terminateMs] emulated machine termination time (serve.ts default: 1000)
 * @property {Record<string, Record<string, number>>} [capacity] emulated capacity, region → type → count
 * @property {Record<string, string>} [vars] more `--var NAME:VALUE` for the coordinator
 * @property {string} [persistTo] local DO/D1 state directory (wrangler default: .wrangler/state)
 * @property {boolean} [testScheduled] serve /__scheduled to run the cron by hand (default true)
 * @property {string} [logLevel] wrangler dev `--log-level` (wrangler default: log)
 * @property {number} [inspectorPort] wrangler dev `--inspector-port` (wrangler default: 9229 or the next free)
 * @property {boolean} [ignoreDevVars] never use .dev.vars credentials: always the emulator, a random admin token
 * @property {{owner: string, label: string}} [tokenFor] the minted token (default owner "dev", label "npm start")
 * @property {string} [root] project root
 * @property {(source: string, line: string) => void} [onOutput] child output (default: stderr, prefixed)
 * @property {(message: string) => void} [log] progress messages (default: stderr)
 */

/** @param {string | undefined} text @param {string} name */
function envPort(text, name) {
  if (text === undefined || text === "") return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number`);
  return port;
}

/** @param {number} port */
async function assertPortFree(port) {
  await new Promise((done, fail) => {
    const probe = net.createServer();
    probe.once("error", () => fail(new Error(`port ${port} on ${HOST} is in use (another \`npm start\`?); set CRABBOX_PORT`)));
    probe.listen(port, HOST, () => probe.close(() => done(undefined)));
  });
}

/** @param {string} root */
function readDevVars(root) {
  const file = join(root, ".dev.vars");
  return existsSync(file) ? parseDevVars(readFileSync(file, "utf8")) : {};
}

/** @param {ReturnType<typeof startGroup>} group */
function emulatorInfo(group) {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`emulators not ready in ${EMULATOR_READY_TIMEOUT_MS} ms:\n${group.tail()}`)), EMULATOR_READY_TIMEOUT_MS);
    group.onStdoutLine((line) => {
      if (!line.startsWith("{")) return;
      clearTimeout(timer);
      done(JSON.parse(line));
    });
    group.exited.then(({ code }) => {
      clearTimeout(timer);
      fail(new Error(`emulators exited (code ${code}) before they were ready:\n${group.tail()}`));
    });
  });
}

/** @param {string} url @param {ReturnType<typeof startGroup>} wrangler */
async function waitForHealth(url, wrangler) {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let exited = false;
  wrangler.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`wrangler dev exited before ${url}/v1/health answered:\n${wrangler.tail()}`);
    try {
      const res = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch (err) {
      // Connection refused while workerd starts is expected; anything else is worth seeing.
      const cause = /** @type {{cause?: {code?: string}}} */ (err).cause;
      if (cause?.code !== "ECONNREFUSED" && /** @type {Error} */ (err).name !== "TimeoutError") throw err;
    }
    if (Date.now() > deadline) throw new Error(`${url}/v1/health did not answer 200 within ${HEALTH_TIMEOUT_MS} ms:\n${wrangler.tail()}`);
    await new Promise((r) => setTimeout(r, HEALTH_POLL_MS));
  }
}

/** @param {string} url @param {string} adminToken @param {{owner: string, label: string}} tokenFor */
async function mintDevToken(url, adminToken, tokenFor) {
  const res = await fetch(`${url}/v1/admin/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ owner: tokenFor.owner, role: "user", label: tokenFor.label }),
  });
  // A non-JSON answer (a workerd error page) is reported below by its status alone.
  const body = await res.json().catch(() => undefined);
  if (!res.ok || typeof body?.token !== "string") {
    throw new Error(`minting a dev token failed: HTTP ${res.status} ${JSON.stringify(body?.error ?? body)}`);
  }
  return body.token;
}

/** @param {string} emulatorUrl @param {Record<string, unknown>} config */
async function configureEmulator(emulatorUrl, config) {
  const res = await fetch(`${emulatorUrl}/_emulator/config`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(config),
  });
  if (!res.ok) throw new Error(`configuring the emulator failed: HTTP ${res.status} ${await res.text()}`);
}

/**
 * @param {StackOptions} [options]
 */
export async function startStack(options = {}) {
  const root = options.root ?? PROJECT_ROOT;
  const log = options.log ?? ((message) => process.stderr.write(`${message}\n`));
  const onOutput = options.onOutput ?? ((source, line) => process.stderr.write(`[${source}] ${line}\n`));
  const port = options.port ?? envPort(process.env.CRABBOX_PORT, "CRABBOX_PORT") ?? 8787;
  const emulatorPort = options.emulatorPort ?? envPort(process.env.CRABBOX_EMULATOR_PORT, "CRABBOX_EMULATOR_PORT") ?? 0;
  const ackDeadline = options.ackDeadline ?? (process.env.CRABBOX_ACK_DEADLINE || undefined);
  const persist = options.persistTo ? ["--persist-to", options.persistTo] : [];
  const devVars = options.ignoreDevVars ? {} : readDevVars(root);
  const realLambda = Boolean(devVars.LAMBDA_API_KEY);
  const realVast = Boolean(devVars.VAST_API_KEY);
  const realFal = Boolean(devVars.FAL_KEY);
  const realCoder = Boolean(devVars.CODER_URL && devVars.CODER_SESSION_TOKEN);
  const realSealos = Boolean(devVars.SEALOS_KUBECONFIG || (devVars.SEALOS_API_SERVER && devVars.SEALOS_TOKEN));
  const adminToken = devVars.CRABBOX_ADMIN_TOKEN || `crabbox-admin-${randomBytes(24).toString("hex")}`;
  const url = `http://${HOST}:${port}`;
  await assertPortFree(port);

  log("applying D1 migrations (local)...");
  await runToEnd({
    name: "d1-migrations",
    command: "npm",
    args: ["exec", "--", "wrangler", "d1", "migrations", "apply", "DB", "--local", ...persist],
    cwd: root,
    env: { ...OFFLINE_ENV, CI: "1" },
  });

  /** @type {ReturnType<typeof startGroup>[]} */
  const running = [];
  let stopping;
  const stop = () => (stopping ??= Promise.all(running.map((group) => group.stop())).then(() => undefined));
  try {
    log("starting the provider emulators...");
    const emulatorKey = `secret_emulator-${randomBytes(12).toString("hex")}`;
    const emulatorArgs = ["--port", String(emulatorPort), "--api-key", emulatorKey];
    if (options.bootMs !== undefined) emulatorArgs.push("--boot-ms", String(options.bootMs));
    if (options.launchIntervalMs !== undefined) emulatorArgs.push("--launch-interval-ms", String(options.launchIntervalMs));
    if (options.terminateMs !== undefined) emulatorArgs.push("--terminate-ms", String(options.terminateMs));
    const emulators = startGroup({
      name: "emulators",
      command: process.execPath,
      args: ["--experimental-strip-types", "--no-warnings", join(root, "test/emulators/serve.ts"), ...emulatorArgs],
      cwd: root,
      onLine: (source, line) => line.startsWith("{") || onOutput(source, line),
    });
    running.push(emulators);
    const emulator = /** @type {{lambda: {url: string, apiBase: string, sshPort: number, apiKey: string}, vast: {url: string, sshPort: number, apiKey: string}, fal: {url: string, apiBase: string, sshPort: number, apiKey: string}, coder: {url: string, sshPort: number, apiKey: string, template: string}, sealos: {url: string, apiKey: string, namespace: string, sshHost: string, sshPort: number, nodeHost: string, image: string}}} */ (await emulatorInfo(emulators));
    if (options.capacity) await configureEmulator(emulator.lambda.url, { capacity: options.capacity });

    /** @type {Record<string, string>} */
    const vars = { ...options.vars };
    if (!realLambda) {
      Object.assign(vars, {
        LAMBDA_BASE_URL: emulator.lambda.apiBase,
        LAMBDA_API_KEY: emulator.lambda.apiKey,
        LAMBDA_SSH_PORT: String(emulator.lambda.sshPort),
      });
    }
    // Each provider switches to its real API on its own when .dev.vars holds its credential.
    if (!realVast) Object.assign(vars, { VAST_BASE_URL: emulator.vast.url, VAST_API_KEY: emulator.vast.apiKey });
    if (!realFal) Object.assign(vars, { FAL_BASE_URL: emulator.fal.apiBase, FAL_KEY: emulator.fal.apiKey, FAL_SSH_PORT: String(emulator.fal.sshPort) });
    if (!realCoder) Object.assign(vars, { CODER_URL: emulator.coder.url, CODER_SESSION_TOKEN: emulator.coder.apiKey, CODER_TEMPLATE: emulator.coder.template });
    if (!realSealos) {
      const sealos = emulator.sealos;
      Object.assign(vars, { SEALOS_API_SERVER: sealos.url, SEALOS_TOKEN: sealos.apiKey, SEALOS_NAMESPACE: sealos.namespace, SEALOS_IMAGE: sealos.image, SEALOS_SSH_HOST: sealos.sshHost, SEALOS_SSHGATE_PORT: String(sealos.sshPort) });
    }
    // What the caller passes wins over the emulators' settings (the live smoke points one provider at a real cloud).
    Object.assign(vars, options.vars);
    if (!devVars.CRABBOX_ADMIN_TOKEN) vars.CRABBOX_ADMIN_TOKEN = adminToken;
    if (ackDeadline) vars.DEFAULT_ACK_DEADLINE = ackDeadline;

    log(`starting the coordinator (wrangler dev) on ${url}...`);
    const devArgs = ["exec", "--", "wrangler", "dev", "--port", String(port), "--ip", HOST, "--show-interactive-dev-session=false", ...persist];
    if (options.testScheduled ?? true) devArgs.push("--test-scheduled");
    if (options.logLevel) devArgs.push("--log-level", options.logLevel);
    if (options.inspectorPort !== undefined) devArgs.push("--inspector-port", String(options.inspectorPort));
    // The same command, vars, port and persisted state every time: a restart is the same coordinator.
    const startCoordinator = async () => {
      const group = startGroup({
        name: "wrangler",
        command: "npm",
        args: [...devArgs, ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`])],
        cwd: root,
        env: OFFLINE_ENV,
        onLine: onOutput,
      });
      running.push(group);
      await waitForHealth(url, group);
      return group;
    };
    let wrangler = await startCoordinator();
    const token = await mintDevToken(url, adminToken, options.tokenFor ?? { owner: "dev", label: "npm start" });
    const adminTokenFromDevVars = Boolean(devVars.CRABBOX_ADMIN_TOKEN);
    // The group of npm → wrangler → workerd (its leader's pid): the bench finds workerd in it to read its CPU time.
    const wranglerPgid = /** @type {number} */ (wrangler.child.pid);
    /**
     * Kills the coordinator's whole process group (-9, a crash) and starts it again on the same
     * persisted state, port, vars and tokens; the emulators keep running with their state.
     */
    const restartCoordinator = async () => {
      await wrangler.kill();
      running.splice(running.indexOf(wrangler), 1);
      log("restarting the coordinator on the same state...");
      wrangler = await startCoordinator();
    };
    return { url, token, adminToken, adminTokenFromDevVars, realLambda, realVast, realFal, realCoder, realSealos, emulator, wranglerPgid, restartCoordinator, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Write what a client needs to reach the stack, for scripts and tests (.crabbox-dev is gitignored).
 * @param {{url: string, token: string, adminToken: string, realLambda: boolean, emulator: unknown}} stack
 * @param {string} [file]
 */
export async function writeStackFile(stack, file = join(PROJECT_ROOT, ".crabbox-dev", "stack.json")) {
  await mkdir(dirname(file), { recursive: true });
  const { url, token, adminToken, realLambda, emulator } = stack;
  await writeFile(file, JSON.stringify({ url, token, adminToken, realLambda, emulator }, null, 2) + "\n", { mode: 0o600 });
  return file;
}
