// Processes for the bench: one-shot builds run to completion (the stack itself is started and
// stopped by scripts/stack.mjs), and process groups and CPU time read from /proc.
import { spawn } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import net from "node:net";

const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux; /proc/<pid>/stat counts in these ticks

/** Runs a one-shot command (a build) in its own process group; its output is appended to `logFile`. */
export async function runToEnd(command, args, { env, logFile }) {
  const child = spawn(command, args, { detached: true, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const log = createWriteStream(logFile, { flags: "a" });
  // end: false — two sources share one log; whichever ends first must not close it under the other.
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const code = await new Promise((resolve) => child.once("exit", (exitCode) => resolve(exitCode)));
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${code}; see ${logFile}`);
}

function readStat(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  // comm may contain spaces and parentheses: split after the last ")".
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is field 3 (state): pgrp is field 5, utime 14, stime 15.
  return { comm, pgrp: Number(fields[2]), utime: Number(fields[11]), stime: Number(fields[12]) };
}

/** Pids (with their command names) whose process group is `pgid`. */
export function groupMembers(pgid) {
  const out = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readStat(Number(name));
      if (stat.pgrp === pgid) out.push({ pid: Number(name), comm: stat.comm });
    } catch (err) {
      if (err.code !== "ENOENT" && err.code !== "ESRCH") throw err; // exited while we looked
    }
  }
  return out;
}

/** User + system CPU time of one process so far, in milliseconds (10 ms resolution). */
export function cpuTicksMs(pid) {
  const { utime, stime } = readStat(pid);
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_S;
}

/**
 * CPU time of all of a process's live threads, in milliseconds with nanosecond resolution
 * (/proc/<pid>/task/<tid>/schedstat). workerd's threads live as long as it does, so deltas
 * are exact; cpuTicksMs is the coarse cross-check that also counts exited threads.
 */
export function cpuMs(pid) {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch (err) {
      if (err.code !== "ENOENT" && err.code !== "ESRCH") throw err; // a thread that just exited
    }
  }
  return ns / 1e6;
}

export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
