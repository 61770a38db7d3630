// Entry point of the bundled `crabbox` CLI. `--version` answers before anything else is evaluated
// (the program and its libraries are imported lazily), so it stays fast and offline.
declare const __CRABBOX_VERSION__: string;

const version = typeof __CRABBOX_VERSION__ === "string" ? __CRABBOX_VERSION__ : "0.0.0-dev";
const argv = process.argv.slice(2);

if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  process.stdout.write(`${version}\n`);
} else {
  const { run } = await import("./program");
  const code = await run(argv, version);
  // Exit explicitly (keep-alive sockets and timers must not hold the process), after stdio drains.
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}

export {}; // a module: top-level await

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}
