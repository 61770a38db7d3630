// Builds the commander program from the command table, runs one command and turns its outcome
// into an exit code: CliErrors are the user's (clean message), anything else is a bug (exit 1).
import { Command, CommanderError, Option } from "commander";
import { COMMANDS } from "./commands/index";
import { type CommandDef, createContext } from "./core/command";
import { configDir } from "./core/config";
import { CliError, EXIT } from "./core/errors";
import { LeaseStore } from "./core/lease-store";
import { Output } from "./core/output";

const EXIT_CODES_HELP = `
Exit codes: 0 ok, 1 bug, 2 usage, 3 auth, 4 not found, 5 timeout, 6 quota/capacity,
7 connection/SSH failure, 8 lease failed/conflict/invalid state, 9 coordinator/provider failure,
130 interrupted. \`crabbox ssh\` exits with the remote command's status.`;

export async function run(argv: string[], version: string): Promise<number> {
  const json = wantsJson(argv);
  const out = new Output(json);
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    // First Ctrl-C: let the running command clean up (acquire releases its lease); second: leave now.
    if (interrupt.signal.aborted) process.exit(signal === "SIGINT" ? EXIT.interrupted : EXIT.terminated);
    interrupt.abort(new CliError("interrupted", { code: "interrupted", exitCode: signal === "SIGINT" ? EXIT.interrupted : EXIT.terminated }));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  let exitCode: number = EXIT.ok;
  let usageMessage: string | undefined;
  const program = new Command("crabbox")
    .description("Lease remote GPU and dev machines from a crabbox coordinator.")
    .version(version, "-V, --version")
    .option("--url <url>", "coordinator URL (overrides CRABBOX_URL and the config file)")
    .option("--token <token>", "API token (overrides CRABBOX_TOKEN and the config file)")
    .addHelpText("after", EXIT_CODES_HELP)
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      // Usage errors are reported once, by report() below, in the same shape as every other error.
      outputError: (message) => {
        usageMessage = message.replace(/^error: /, "").trim();
      },
    });

  for (const def of COMMANDS) {
    register(program, def, (code) => {
      exitCode = code;
    }, (globals) =>
      createContext({
        version,
        out,
        env: process.env,
        configDir: configDir(process.env),
        store: new LeaseStore(configDir(process.env)),
        signal: interrupt.signal,
        flags: globals,
      }),
    );
  }

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT.ok; // --help, --version
      if (error.code === "commander.help") return EXIT.usage; // no subcommand: the help is already on stderr
      return report(new CliError(usageMessage ?? error.message, { code: "usage", exitCode: EXIT.usage }), out, true);
    }
    return report(error, out, false);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return exitCode;
}

type ContextFactory = (globals: { url?: string; token?: string }) => ReturnType<typeof createContext>;

function register(program: Command, def: CommandDef<object>, setExit: (code: number) => void, makeContext: ContextFactory): void {
  const words = def.path.split(" ");
  let parent = program;
  for (const word of words.slice(0, -1)) {
    parent = parent.commands.find((command) => command.name() === word) ?? parent.command(word).description(`${word} commands`);
  }
  const command = parent.command(words.at(-1) ?? def.path).description(def.summary);
  for (const arg of def.args ?? []) command.argument(arg);
  for (const spec of def.options ?? []) {
    const option = new Option(spec.flags, spec.description);
    if (spec.choices) option.choices(spec.choices);
    if (spec.parse) option.argParser(spec.parse);
    if (spec.defaultValue !== undefined) option.default(spec.defaultValue);
    if (spec.required) option.makeOptionMandatory();
    command.addOption(option);
  }
  if (def.json) command.option("--json", "print only JSON on stdout");
  if (def.examples?.length) command.addHelpText("after", `\nExamples:\n${def.examples.map((line) => `  $ ${line}`).join("\n")}`);
  command.action(async (...params: unknown[]) => {
    const self = params.at(-1) as Command;
    const args = params.slice(0, self.registeredArguments.length).flatMap((value) =>
      value === undefined ? [] : Array.isArray(value) ? (value as string[]) : [value as string],
    );
    const ctx = makeContext(self.optsWithGlobals());
    const code = await def.run(ctx, { args, opts: self.opts() });
    setExit(code ?? EXIT.ok);
  });
}

/** `--json` anywhere before a `--` (after it, the words belong to a remote command). */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes("--json");
}

export function report(error: unknown, out: Output, usage: boolean): number {
  if (error instanceof CliError) {
    const hint = usage ? "\n(run `crabbox --help` or `crabbox <command> --help`)" : "";
    if (out.json) out.result({ error: { code: error.code, message: error.message, issues: error.issues, ...error.details } }, () => "");
    const issues = (error.issues ?? []).map((issue) => `\n  ${issue.path}: ${issue.message}`).join("");
    const [first, ...rest] = error.message.split("\n");
    const more = rest.map((line) => `\n${line}`).join("");
    process.stderr.write(`crabbox: ${first} (${error.code})${more}${issues}${hint}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (out.json) out.result({ error: { code: "internal", message } }, () => "");
  process.stderr.write(`crabbox: unexpected error: ${message} (internal)\nThis is a bug in crabbox; please report it with the command you ran.\n`);
  if (process.env.CRABBOX_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return EXIT.bug;
}
