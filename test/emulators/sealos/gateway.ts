// The emulated SSHGate (sshgate-README.md; registry rules in controller-and-api-facts.md §2): a
// real SSH server that accepts any user name, matches the client's public key against the FIRST
// line of SEALOS_DEVBOX_PUBLIC_KEY of every Secret labelled part-of devbox that a Devbox owns,
// and proxies the session to that DevBox's SSH server, logging in with the Secret's private key.
// A DevBox that is not running gets its channels refused, as the real gateway does.
// ASSUMPTION: the hop logs in as the DevBox's spec.config.user (the README does not say).
import type { AddressInfo, Socket } from "node:net";
import ssh2 from "ssh2";
import type { ClientChannel, Connection, ParsedKey, ServerChannel } from "ssh2";
import { generateEd25519 } from "../keys.ts";
import { PART_OF, unb64, type DevboxRecord, type SealosState } from "./state.ts";

const { Server, Client, utils } = ssh2;

export interface Gateway {
  host: string;
  port: number;
  /** Sessions the gateway proxied (tests count them). */
  sessions(): number;
  close(): Promise<void>;
}

function parse(line: string): ParsedKey | undefined {
  const parsed = utils.parseKey(line.trim());
  if (parsed instanceof Error) return undefined;
  return Array.isArray(parsed) ? parsed[0] : parsed;
}

/** The registry: which running-or-not DevBox a client key routes to, by the Secrets' rules. */
function route(state: SealosState, offered: Buffer): { rec: DevboxRecord; privateKey: string; key: ParsedKey } | undefined {
  for (const secret of state.secrets()) {
    if (secret.metadata.labels?.[PART_OF] !== "devbox") continue;
    const owner = secret.metadata.ownerReferences?.find((o) => o.kind === "Devbox");
    if (!owner) continue;
    const data = (secret.data ?? {}) as Record<string, string>;
    const first = unb64(data.SEALOS_DEVBOX_PUBLIC_KEY).split("\n")[0] ?? "";
    const key = parse(first);
    if (!key || !key.getPublicSSH().equals(offered)) continue;
    const rec = state.devbox(secret.metadata.namespace, owner.name);
    if (rec && rec.object.metadata.uid === owner.uid) return { rec, privateKey: unb64(data.SEALOS_DEVBOX_PRIVATE_KEY), key };
  }
  return undefined;
}

/**
 * One proxied channel: accepted at once (a client may send EOF right after its exec, and ssh2
 * then refuses a late accept), its input held until the DevBox's channel opens, then spliced.
 * Exit status goes before EOF, as OpenSSH expects.
 */
function proxyChannel(local: ServerChannel, open: (done: (err: Error | undefined, ch?: ClientChannel) => void) => void): void {
  let remote: ClientChannel | undefined;
  const held: Buffer[] = [];
  let ended = false;
  local.on("data", (d: Buffer) => (remote ? remote.write(d) : held.push(d)));
  local.on("end", () => (remote ? remote.end() : (ended = true)));
  local.on("close", () => remote?.close());
  // Listeners go on in the open callback itself: ssh2 parses a whole TCP chunk at once, so the
  // command's output and exit status may follow the channel's success synchronously.
  const attach = (ch: ClientChannel) => {
    remote = ch;
    for (const d of held) ch.write(d);
    if (ended) ch.end();
    ch.on("data", (d: Buffer) => local.write(d));
    ch.stderr.on("data", (d: Buffer) => local.stderr.write(d));
    let exit: { code?: number; signal?: string } = {};
    ch.on("exit", (code: number | null, signal?: string) => {
      exit = signal ? { signal } : { code: code ?? 0 };
    });
    ch.on("close", () => {
      if (exit.signal) local.exit(exit.signal.replace(/^SIG/, ""), false, "");
      else local.exit(exit.code ?? 0);
      local.end();
    });
  };
  open((err, ch) => {
    if (ch && !err) return attach(ch);
    local.stderr.write(`sshgate: ${err?.message ?? "no channel"}\n`);
    local.exit(255);
    local.end();
  });
}

export async function startGateway(options: { state: SealosState; host: string; port: number }): Promise<Gateway> {
  const { state } = options;
  const hostKey = generateEd25519().private;
  const connections = new Set<Connection>();
  const backends = new Set<InstanceType<typeof Client>>();
  let proxied = 0;

  const server = new Server({ hostKeys: [hostKey] }, (client) => {
    connections.add(client);
    client.on("close", () => connections.delete(client));
    client.on("error", () => undefined);
    let target: ReturnType<typeof route>;
    client.on("authentication", (ctx) => {
      if (ctx.method !== "publickey") return ctx.reject(["publickey"]);
      const found = route(state, ctx.key.data);
      if (!found) return ctx.reject(["publickey"]);
      if (ctx.signature && ctx.blob && found.key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(["publickey"]);
      target = found;
      ctx.accept();
    });
    client.on("ready", () => {
      client.on("session", (accept, reject) => {
        const rec = target?.rec;
        if (!rec?.machine) return reject();
        const machine = rec.machine;
        const session = accept();
        proxied++;
        const backend = new Client();
        backends.add(backend);
        const connected = new Promise<InstanceType<typeof Client>>((resolve, fail) => {
          backend.once("ready", () => resolve(backend));
          backend.once("error", fail);
        });
        connected.catch(() => undefined);
        backend.on("close", () => backends.delete(backend));
        backend.connect({ host: machine.host, port: machine.port, username: rec.object.spec.config?.user ?? "devbox", privateKey: target!.privateKey, readyTimeout: 10_000 });
        let pty: { rows: number; cols: number; term: string } | undefined;
        const env: Record<string, string> = {};
        let remote: ClientChannel | undefined;
        session.on("pty", (ok, _no, info) => {
          pty = { rows: info.rows, cols: info.cols, term: info.term };
          ok?.();
        });
        session.on("env", (ok, _no, info) => {
          env[info.key] = info.val;
          ok?.();
        });
        session.on("window-change", (ok, _no, info) => {
          remote?.setWindow(info.rows, info.cols, info.height, info.width);
          ok?.();
        });
        session.on("signal", (ok, _no, info) => {
          remote?.signal(info.name);
          ok?.();
        });
        /** Accept now; open the matching channel on the DevBox once its connection is up. */
        const open = (accept: () => ServerChannel | undefined, start: (conn: InstanceType<typeof Client>, done: (err: Error | undefined, ch: ClientChannel) => void) => void) => {
          const local = accept();
          if (!local) return;
          proxyChannel(local, (done) =>
            connected.then(
              (conn) =>
                start(conn, (err, ch) => {
                  if (!err) remote = ch;
                  done(err, ch);
                }),
              (err: Error) => done(err),
            ),
          );
        };
        session.on("exec", (ok, _no, info) => open(ok, (conn, done) => conn.exec(info.command, { pty: pty ?? false, env: env as NodeJS.ProcessEnv }, done)));
        session.on("shell", (ok) => open(ok, (conn, done) => conn.shell(pty ?? false, { env: env as NodeJS.ProcessEnv }, done)));
        session.on("subsystem", (ok, _no, info) => open(ok, (conn, done) => conn.subsys(info.name, done)));
        session.on("close", () => backend.end());
      });
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve((server.address() as AddressInfo).port));
  });
  let closing: Promise<void> | undefined;
  return {
    host: options.host,
    port,
    sessions: () => proxied,
    close() {
      closing ??= new Promise<void>((done) => {
        server.close(() => done());
        for (const b of backends) b.end();
        for (const c of connections) (c as unknown as { _sock?: Socket })._sock?.destroy();
      });
      return closing;
    },
  };
}
