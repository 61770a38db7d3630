// One SSH session channel of an emulated machine: `exec` through /bin/sh -c and `shell`
// (with a real pseudo-terminal via util-linux `script` when the client asked for a pty).
// Exit codes and signals pass through to the client exactly.
import { spawn, type ChildProcess } from "node:child_process";
import type { ServerChannel, Session } from "ssh2";

export interface SessionContext {
  user: string;
  /** Working directory and HOME of every command. */
  home: string;
  /** Live child processes of the machine, killed when it shuts down. */
  children: Set<ChildProcess>;
}

interface PtyRequest {
  term: string;
  cols: number;
  rows: number;
}

/** Only what a login would set: never the emulator's own environment (it holds API keys). */
function childEnv(ctx: SessionContext, requested: Record<string, string>, pty?: PtyRequest): NodeJS.ProcessEnv {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: ctx.home,
    USER: ctx.user,
    LOGNAME: ctx.user,
    SHELL: "/bin/sh",
    LANG: "C.UTF-8",
    ...requested,
  };
  if (pty) {
    env.TERM = pty.term || "xterm";
    env.COLUMNS = String(pty.cols);
    env.LINES = String(pty.rows);
  }
  // The cast: worker-configuration.d.ts declares the Worker's vars as required on ProcessEnv.
  return env as NodeJS.ProcessEnv;
}

function run(stream: ServerChannel, child: ChildProcess, ctx: SessionContext): void {
  ctx.children.add(child);
  child.stdout?.pipe(stream, { end: false });
  child.stderr?.pipe(stream.stderr, { end: false });
  stream.on("data", (chunk: Buffer) => child.stdin?.write(chunk));
  stream.on("end", () => child.stdin?.end());
  // EPIPE here only means the command exited before reading all its input, as with sshd.
  child.stdin?.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") console.error("[ssh-machine] stdin:", err.message);
  });
  // The client went away (or the machine is shutting down): hang up the command like sshd.
  stream.on("close", () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGHUP");
  });
  child.on("error", (err) => {
    stream.stderr.write(`sh: ${err.message}\n`);
    stream.exit(127);
    stream.end();
  });
  // "close" fires after stdout/stderr drained, so all output is in the channel before exit.
  // Order matters: exit status, then EOF/close, or OpenSSH reports 255 (TOOLCHAIN.md).
  child.on("close", (code, signal) => {
    ctx.children.delete(child);
    if (signal) stream.exit(signal.replace(/^SIG/, ""), false, "");
    else stream.exit(code ?? 0);
    stream.end();
  });
}

/** Serve the requests of one `session` channel. */
export function serveSession(session: Session, ctx: SessionContext): void {
  const env: Record<string, string> = {};
  let pty: PtyRequest | undefined;
  let child: ChildProcess | undefined;

  session.on("env", (accept, _reject, info) => {
    env[info.key] = info.val;
    accept?.();
  });
  session.on("pty", (accept, _reject, info) => {
    pty = { term: info.term, cols: info.cols, rows: info.rows };
    accept?.();
  });
  // The pty is `script`'s own; it cannot be resized from here, so just acknowledge.
  session.on("window-change", (accept) => accept?.());
  session.on("signal", (accept, _reject, info) => {
    child?.kill(`SIG${info.name}` as NodeJS.Signals);
    accept?.();
  });
  session.on("exec", (accept, _reject, info) => {
    const stream = accept();
    const started = spawn("/bin/sh", ["-c", info.command], { cwd: ctx.home, env: childEnv(ctx, env, pty), stdio: "pipe" });
    child = started;
    run(stream, started, ctx);
  });
  session.on("shell", (accept) => {
    const stream = accept();
    const options = { cwd: ctx.home, env: childEnv(ctx, env, pty), stdio: "pipe" as const };
    // `script -qfec` gives the shell a real tty (echo, job control) and returns its exit code.
    const sized = pty ? `stty cols ${pty.cols || 80} rows ${pty.rows || 24} 2>/dev/null; ` : "";
    const started = pty
      ? spawn("script", ["-qfec", `${sized}exec /bin/sh -i`, "/dev/null"], options)
      : spawn("/bin/sh", ["-i"], options);
    child = started;
    run(stream, started, ctx);
  });
  session.on("subsystem", (_accept, reject) => reject?.());
  session.on("auth-agent", (_accept, reject) => reject?.());
  session.on("x11", (_accept, reject) => reject?.());
}
