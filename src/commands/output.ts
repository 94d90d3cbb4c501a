import type { ErrorBody } from "../api/errors.ts";
import type { ProgressEvent } from "../api/schemas/shed.ts";
import type { GlobalOptions } from "./global.ts";

/**
 * What users see. Human mode: text on stdout, progress on stderr (redrawn lines on a TTY,
 * plain lines otherwise). JSON mode: one JSON value per line on stdout, nothing else.
 */
export class Output {
  readonly json: boolean;
  readonly verbose: boolean;
  private readonly tty = Boolean(process.stderr.isTTY);
  private progressLines = new Map<string, string>();
  private drawn = 0;

  constructor(globals: Pick<GlobalOptions, "json" | "verbose">) {
    this.json = globals.json;
    this.verbose = globals.verbose;
  }

  /** A command's result: JSON as is, or the human text when not in JSON mode. */
  result(value: unknown, human?: string | (() => string | Promise<string>)): Promise<void> | void {
    this.clearProgress();
    if (this.json) {
      process.stdout.write(`${JSON.stringify(value)}\n`);
      return;
    }
    if (human === undefined) return;
    const text = typeof human === "function" ? human() : human;
    if (text instanceof Promise) {
      return text.then((t) => {
        if (t) process.stdout.write(t.endsWith("\n") ? t : `${t}\n`);
      });
    }
    if (text) process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  /** A line for people (stderr, so stdout stays clean for pipes). Silent in JSON mode. */
  note(message: string): void {
    if (this.json) return;
    this.clearProgress();
    process.stderr.write(`${message}\n`);
  }

  warn(message: string): void {
    if (this.json) return;
    this.clearProgress();
    process.stderr.write(`warning: ${message}\n`);
  }

  debug(message: string): void {
    if (this.verbose && !this.json) process.stderr.write(`debug: ${message}\n`);
  }

  error(err: ErrorBody): void {
    this.clearProgress();
    if (this.json) process.stdout.write(`${JSON.stringify({ error: err })}\n`);
    else process.stderr.write(`Error: ${err.message} (${err.code})\n`);
  }

  /** Progress from SSE: JSON lines with --json, redrawn lines on a TTY, plain lines otherwise. */
  readonly progress = (e: ProgressEvent): void => {
    if (this.json) {
      process.stdout.write(`${JSON.stringify({ progress: e })}\n`);
      return;
    }
    const line = formatProgress(e);
    if (!this.tty) {
      // Plain output (logs, pipes): a line when an item's status changes, not per byte count.
      if (this.progressLines.get(e.id) !== e.status) process.stderr.write(`${line}\n`);
      this.progressLines.set(e.id, e.status);
      return;
    }
    this.progressLines.set(e.id, line);
    this.redraw();
  };

  private redraw(): void {
    let out = this.drawn > 0 ? `\x1b[${this.drawn}F` : "";
    for (const line of this.progressLines.values()) out += `\x1b[2K${line}\n`;
    this.drawn = this.progressLines.size;
    process.stderr.write(out);
  }

  private clearProgress(): void {
    this.progressLines.clear();
    this.drawn = 0;
  }
}

export function formatProgress(e: ProgressEvent): string {
  if (e.total && e.total > 0 && e.current !== undefined) {
    const width = 24;
    const frac = Math.min(1, e.current / e.total);
    const filled = Math.round(frac * width);
    const bar = `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
    return `${e.id.padEnd(14)} ${e.status.padEnd(12)} [${bar}] ${formatBytes(e.current)}/${formatBytes(e.total)}`;
  }
  return `${e.id.padEnd(14)} ${e.status}`;
}

export function formatBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)}${units[i]}`;
}
