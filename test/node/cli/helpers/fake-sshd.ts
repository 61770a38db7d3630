// A real SSH server on 127.0.0.1 (ssh2) that accepts only the given user and public keys and runs
// exec requests with `sh -c`, so tests drive the system `ssh` client end to end.
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { Server, utils } from "ssh2";
import { generateSshKeyPair } from "../../../../cli/core/keys";

export interface FakeSshd {
  port: number;
  /** The server's host key line ("ssh-ed25519 AAAA..."), to compare with known_hosts. */
  hostPublicKey: string;
  /** Commands run, in order, with when they started. */
  execs: { command: string; at: number }[];
  close(): Promise<void>;
}

export async function startFakeSshd(options: { user: string; authorizedKeys: () => Iterable<string> }): Promise<FakeSshd> {
  // The host key comes from the CLI's own generator: ssh2 parsing it is one more check of the format.
  const hostKey = generateSshKeyPair("fake-sshd");
  const execs: FakeSshd["execs"] = [];
  const server = new Server({ hostKeys: [hostKey.privateKey] }, (client) => {
    client.on("authentication", (ctx) => {
      if (ctx.method !== "publickey" || ctx.username !== options.user) return ctx.reject(["publickey"]);
      const allowed = [...options.authorizedKeys()].map((line) => utils.parseKey(line)).find((key) => {
        return !(key instanceof Error) && key.getPublicSSH().equals(ctx.key.data);
      });
      if (!allowed || allowed instanceof Error) return ctx.reject(["publickey"]);
      if (!ctx.signature) return ctx.accept(); // the client asks whether the key would do before signing
      return allowed.verify(ctx.blob ?? Buffer.alloc(0), ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject(["publickey"]);
    });
    client.on("ready", () => {
      client.on("session", (acceptSession) => {
        const session = acceptSession();
        session.on("exec", (acceptExec, _reject, info) => {
          const stream = acceptExec();
          execs.push({ command: info.command, at: Date.now() });
          const child = spawn("sh", ["-c", info.command], { stdio: ["pipe", "pipe", "pipe"] });
          stream.pipe(child.stdin);
          // {end: false}, then exit(code) and end(): otherwise the client reports 255 (TOOLCHAIN.md).
          child.stdout.pipe(stream, { end: false });
          child.stderr.pipe(stream.stderr, { end: false });
          child.on("close", (code) => {
            stream.exit(code ?? 255);
            stream.end();
          });
        });
      });
    });
    client.on("error", () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hostPublicKey: hostKey.publicKey.split(" ").slice(0, 2).join(" "),
    execs,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
