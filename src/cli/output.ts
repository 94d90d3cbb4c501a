import type { ErrorBody } from "../api/errors.ts";
import type { ProgressEvent } from "../api/schemas/shed.ts";
import { renderTemplate } from "./template.ts";

export type ProgressMode = "auto" | "plain" | "json" | "none";

export interface OutputOptions {
  json: boolean;
  verbose: boolean;
  /** auto: redrawn lines on a terminal, plain lines otherwise, none with --json. */
  progress?: ProgressMode;
}

/** How a listing is printed: --format json|yaml|table|TEMPLATE, or -q for names only. */
export interface ListFormat {
  format?: string;
  quiet?: boolean;
}

/**
 * What users see. stdout carries the result only: text for people, or with --json exactly one
 * JSON document. Everything else (progress, notes, warnings, errors) goes to stderr; with
 * --json an error is `{"error":{code,message}}` there.
 */
export class Output {
  readonly json: boolean;
  readonly verbose: boolean;
  private readonly progressMode: "tty" | Exclude<ProgressMode, "auto">;
  private progressLines = new Map<string, string>();
  private drawn = 0;

  constructor(opts: OutputOptions) {
    this.json = opts.json;
    this.verbose = opts.verbose;
    const mode = opts.progress ?? "auto";
    this.progressMode = mode !== "auto" ? mode : opts.json ? "none" : process.stderr.isTTY ? "tty" : "plain";
  }

  /** A command's result: JSON as is, or the human text when not in JSON mode. */
  async result(value: unknown, human?: string | (() => string | Promise<string>), opts: ListFormat = {}): Promise<void> {
    this.clearProgress();
    if (opts.format && opts.format !== "table") return this.formatted(value, [value], opts.format);
    if (this.json) return this.write(`${JSON.stringify(value)}\n`);
    if (human === undefined) return;
    const text = typeof human === "function" ? await human() : human;
    if (text) await this.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  /** A listing: `doc` is the --json document, `items` what -q and a --format template go over. */
  async list<T>(doc: unknown, items: T[], opts: ListFormat & { quietKey: (item: T) => string; table: () => string }): Promise<void> {
    this.clearProgress();
    if (opts.quiet) return this.write(items.map((i) => `${opts.quietKey(i)}\n`).join(""));
    if (opts.format && opts.format !== "table") return this.formatted(doc, items, opts.format);
    if (this.json) return this.write(`${JSON.stringify(doc)}\n`);
    const text = opts.table();
    if (text) await this.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  private formatted(doc: unknown, items: unknown[], format: string): Promise<void> {
    if (format === "json") return this.write(`${JSON.stringify(doc)}\n`);
    if (format === "yaml") return this.write(Bun.YAML.stringify(doc, null, 2).replace(/\n?$/, "\n"));
    return this.write(items.map((i) => `${renderTemplate(format, i)}\n`).join(""));
  }

  private write(text: string): Promise<void> {
    return new Promise((resolve) => process.stdout.write(text, () => resolve()));
  }

  /** A line for people on stderr (silent with --json). */
  note(message: string): void {
    if (this.json) return;
    this.clearProgress();
    process.stderr.write(`${message}\n`);
  }

  warn(message: string): void {
    this.clearProgress();
    if (this.json) {
      process.stderr.write(`${JSON.stringify({ warning: message })}\n`);
      return;
    }
    process.stderr.write(`warning: ${message}\n`);
  }

  debug(message: string): void {
    if (this.verbose && !this.json) process.stderr.write(`debug: ${message}\n`);
  }

  error(err: ErrorBody): void {
    this.clearProgress();
    if (this.json) process.stderr.write(`${JSON.stringify({ error: err })}\n`);
    else process.stderr.write(`Error: ${err.message} (${err.code})\n`);
  }

  /** Progress from SSE: redrawn lines on a terminal, plain lines, JSON lines (--progress json), or nothing. */
  readonly progress = (e: ProgressEvent): void => {
    const mode = this.progressMode;
    if (mode === "none") return;
    if (mode === "json") {
      process.stderr.write(`${JSON.stringify({ progress: e })}\n`);
      return;
    }
    const line = formatProgress(e);
    if (mode === "plain") {
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
