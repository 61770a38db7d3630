// Output modes: results on stdout (pretty text, or JSON only with --json), progress and notes on
// stderr (a spinner on a TTY, plain lines otherwise). Colour only on a TTY and without NO_COLOR.
import picocolors from "picocolors";
import yoctoSpinner, { type Spinner } from "yocto-spinner";

export type Colors = ReturnType<typeof picocolors.createColors>;

function colorsFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): Colors {
  const enabled = !("NO_COLOR" in env) && env.TERM !== "dumb" && (Boolean(stream.isTTY) || "FORCE_COLOR" in env);
  return picocolors.createColors(enabled);
}

export class Output {
  readonly color: Colors;
  readonly errColor: Colors;

  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.color = colorsFor(stdout, env);
    this.errColor = colorsFor(stderr, env);
  }

  /** The command's result: `data` as JSON with --json, else the pretty lines. */
  result(data: unknown, pretty: () => string | string[]): void {
    if (this.json) {
      this.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      return;
    }
    const text = pretty();
    const lines = Array.isArray(text) ? text.join("\n") : text;
    if (lines !== "") this.stdout.write(`${lines}\n`);
  }

  /** Human notes that are not the result (hints, skipped items): stderr, so --json stays clean. */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    this.stderr.write(`${this.errColor.yellow("warning:")} ${text}\n`);
  }

  progress(): Progress {
    return this.stderr.isTTY ? new SpinnerProgress(this.stderr) : new LineProgress(this.stderr);
  }
}

export interface Progress {
  update(text: string): void;
  done(text?: string): void;
  fail(text?: string): void;
  /** Stops any animation so another line can be written cleanly. */
  pause(): void;
}

class SpinnerProgress implements Progress {
  private spinner?: Spinner;
  constructor(private readonly stream: NodeJS.WriteStream) {}
  update(text: string): void {
    if (!this.spinner) this.spinner = yoctoSpinner({ text, stream: this.stream, handleSignals: false }).start();
    else this.spinner.text = text;
  }
  done(text?: string): void {
    this.spinner?.success(text);
    this.spinner = undefined;
  }
  fail(text?: string): void {
    this.spinner?.error(text);
    this.spinner = undefined;
  }
  pause(): void {
    this.spinner?.stop();
    this.spinner = undefined;
  }
}

/** Without a TTY every distinct step is one line, so logs of CI jobs and agents stay readable. */
class LineProgress implements Progress {
  private last?: string;
  constructor(private readonly stream: NodeJS.WriteStream) {}
  update(text: string): void {
    if (text === this.last) return;
    this.last = text;
    this.stream.write(`${text}\n`);
  }
  done(text?: string): void {
    if (text) this.update(text);
  }
  fail(text?: string): void {
    if (text) this.update(text);
  }
  pause(): void {
    // Lines are already complete: nothing to stop.
  }
}

/** Left-aligned columns; the header row is dimmed. */
export function table(color: Colors, header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const render = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd();
  return [color.dim(render(header)), ...rows.map(render)];
}
