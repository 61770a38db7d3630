// A real SSH server standing in for a leased machine (shared by every provider emulator):
// publickey auth only, for exactly one user and the given authorized keys; exec and shell run
// real /bin/sh processes in a private home directory. Built on the `ssh2` npm server.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { ChildProcess } from "node:child_process";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ssh2 from "ssh2";
import type { Connection, ParsedKey } from "ssh2";
import { generateEd25519 } from "./keys.ts";
import { serveSession } from "./ssh-session.ts";

const { Server, utils } = ssh2;
const CLOSE_GRACE_MS = 1000;

export interface SshMachineOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The only user that may log in (the provider's real default user). */
  user: string;
  /**
   * OpenSSH public key lines (`ssh-ed25519 AAAA... comment`); a function when the provider can
   * change them while the machine runs (Vast attaches keys to a running instance).
   */
  authorizedKeys: string[] | (() => string[]) | "any";
  /** OpenSSH private host key; a fresh ed25519 key when absent (see keys.ts). */
  hostKey?: string;
  /**
   * The boot script the provider delivered (Lambda user_data, Vast onstart): run once in the
   * machine's home, as its user, before the SSH server listens, like a boot that finishes
   * before sshd answers. A cloud-init document (or a MIME multi-part) is kept in the home as
   * `.cloud-init-user-data` and not run. ASSUMPTION: the emulators run no cloud-init.
   */
  bootScript?: string;
}

const BOOT_SCRIPT_TIMEOUT_MS = 30_000;

export interface SshMachine {
  host: string;
  port: number;
  /** The host key's public half as an OpenSSH line, for known_hosts checks in tests. */
  hostPublicKey: string;
  /** TCP connections accepted so far (banner probes included): tests count who knocked. */
  connectionsAccepted(): number;
  /** Stop listening, end every session and kill every command. Idempotent. */
  close(): Promise<void>;
}

function parsePublicKeys(lines: string[]): ParsedKey[] {
  return lines.map((line) => {
    const parsed = utils.parseKey(line.trim());
    if (parsed instanceof Error) throw new Error(`invalid authorized key: ${parsed.message}`);
    return Array.isArray(parsed) ? parsed[0] : parsed;
  });
}

/** Resets and aborted handshakes are what clients do (port probes, refused logins). */
function noteConnectionError(err: NodeJS.ErrnoException): void {
  if (err.code === "ECONNRESET" || err.code === "EPIPE") return;
  if (/handshake|disconnect|Protocol/i.test(err.message)) return;
  console.error("[ssh-machine]", err.message);
}

export async function startSshMachine(options: SshMachineOptions): Promise<SshMachine> {
  // "any": a Coder agent's SSH server; the client was authenticated by its Coder token on the
  // way in (the stand-in `coder ssh --stdio` checks it), so any key the client offers will do.
  const anyKey = options.authorizedKeys === "any";
  const fixed = Array.isArray(options.authorizedKeys) ? parsePublicKeys(options.authorizedKeys) : undefined;
  const allowed = () => fixed ?? (anyKey ? [] : parsePublicKeys((options.authorizedKeys as () => string[])()));
  const hostKey = options.hostKey ?? generateEd25519().private;
  const parsedHostKey = utils.parseKey(hostKey);
  if (parsedHostKey instanceof Error) throw new Error(`invalid host key: ${parsedHostKey.message}`);
  const hostParsed = Array.isArray(parsedHostKey) ? parsedHostKey[0] : parsedHostKey;
  const hostPublicKey = `${hostParsed.type} ${hostParsed.getPublicSSH().toString("base64")}`;
  const home = await mkdtemp(join(tmpdir(), "crabbox-machine-"));
  if (options.bootScript !== undefined) await runBootScript(options.bootScript, home, options.user);
  const children = new Set<ChildProcess>();
  const connections = new Set<Connection>();
  let accepted = 0;

  const server = new Server({ hostKeys: [hostKey] }, (client) => {
    accepted++;
    connections.add(client);
    client.on("close", () => connections.delete(client));
    client.on("error", noteConnectionError);
    client.on("authentication", (ctx) => {
      if (ctx.method !== "publickey" || ctx.username !== options.user) return ctx.reject(["publickey"]);
      if (anyKey) return ctx.accept();
      const key = allowed().find((k) => k.getPublicSSH().equals(ctx.key.data));
      if (!key) return ctx.reject(["publickey"]);
      // Without a signature the client only asks whether the key would do; with one, prove it.
      if (ctx.signature && ctx.blob && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
        return ctx.reject(["publickey"]);
      }
      ctx.accept();
    });
    client.on("ready", () => {
      client.on("session", (accept) => serveSession(accept(), { user: options.user, home, children }));
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const child of children) child.kill("SIGKILL");
      for (const client of connections) client.end();
      // A client that ignores the disconnect would hold server.close() open: cut its socket.
      const grace = setTimeout(() => {
        for (const client of connections) (client as unknown as { _sock?: Socket })._sock?.destroy();
      }, CLOSE_GRACE_MS);
      await stopped;
      clearTimeout(grace);
      await rm(home, { recursive: true, force: true });
    })();
    return closing;
  };
  return { host: options.host, port, hostPublicKey, connectionsAccepted: () => accepted, close };
}

async function runBootScript(script: string, home: string, user: string): Promise<void> {
  if (/^(#cloud-config|Content-Type: multipart)/.test(script)) {
    await writeFile(join(home, ".cloud-init-user-data"), script);
    return;
  }
  const path = join(home, ".boot-script");
  await writeFile(path, script, { mode: 0o700 });
  await new Promise<void>((done) => {
    const env = { HOME: home, USER: user, LOGNAME: user, PATH: "/usr/local/bin:/usr/bin:/bin" } as unknown as NodeJS.ProcessEnv;
    const child = spawn("/bin/sh", [path], { cwd: home, env, stdio: "ignore" });
    const timer = setTimeout(() => child.kill("SIGKILL"), BOOT_SCRIPT_TIMEOUT_MS);
    // A failing boot script does not stop the machine from booting (cloud-init's way too).
    child.once("close", () => {
      clearTimeout(timer);
      done();
    });
    child.once("error", () => done());
  });
}
