import type { AnyCommand, ArgDef, ArgsDef } from "./command.ts";
import { GLOBAL_ARGS } from "./global.ts";

/**
 * `--help` text, laid out like gh's: usage, summary, arguments, flags, global flags,
 * examples; wrapped at the terminal's width (80 when not a terminal), bold headings only
 * on a terminal and without NO_COLOR.
 */
export interface HelpTarget {
  /** "shed image ls" */
  path: string;
  cmd: AnyCommand;
  /** For groups: their subcommands, loaded. */
  subs?: [string, AnyCommand][];
}

export function renderHelp(t: HelpTarget, width = terminalWidth()): string {
  const { cmd } = t;
  const args: ArgsDef = cmd.args ?? {};
  const out: string[] = [];
  const heading = (s: string) => (useColor() ? `\x1b[1m${s}\x1b[22m` : s);
  out.push(...wrap(cmd.meta.description + (cmd.meta.description.endsWith(".") ? "" : "."), width));
  if (cmd.meta.details) out.push("", ...cmd.meta.details.split("\n").flatMap((p) => wrap(p, width)));
  out.push("", heading("Usage:"), ...wrap(usageLine(t), width, "  ", "    "));
  if (cmd.meta.aliases?.length) out.push("", heading("Aliases:"), `  ${cmd.meta.aliases.join(", ")}`);
  if (t.subs?.length) {
    out.push("", heading("Commands:"));
    const shown = t.subs.filter(([, c]) => !c.meta.hidden);
    out.push(...columns(shown.map(([name, c]) => [name, c.meta.description]), width));
  }
  const positionals = Object.entries(args).filter(([, d]) => d.type === "positional");
  if (positionals.length || cmd.meta.passThrough) {
    out.push("", heading("Arguments:"));
    const rows = positionals.map(([k, d]): [string, string] => [k.toUpperCase(), d.description]);
    if (cmd.meta.passThrough) rows.push([`-- ${cmd.meta.passThrough}`, "Everything after -- goes to the shed as it is"]);
    out.push(...columns(rows, width));
  }
  const flags = Object.entries(args).filter(([, d]) => d.type !== "positional");
  if (flags.length) out.push("", heading("Flags:"), ...columns(flags.map(([k, d]) => flagRow(k, d)), width));
  const globals = Object.entries(GLOBAL_ARGS).filter(([k]) => !(k in args));
  out.push("", heading("Global flags:"), ...columns(globals.map(([k, d]) => flagRow(k, d)), width));
  if (cmd.meta.examples?.length) {
    out.push("", heading("Examples:"), ...cmd.meta.examples.flatMap((e) => wrap(e, width, "  ", "      ")));
  }
  if (t.subs?.length) out.push("", ...wrap(`Run \`${t.path} COMMAND --help\` for more on a command.`, width));
  return `${out.join("\n")}\n`;
}

export function usageLine(t: HelpTarget): string {
  const parts = [t.path];
  if (t.subs?.length) parts.push(t.cmd.run ? "[COMMAND]" : "COMMAND");
  for (const [k, d] of Object.entries((t.cmd.args ?? {}) as ArgsDef)) {
    if (d.type !== "positional") continue;
    const name = d.multiple ? `${k.toUpperCase()}...` : k.toUpperCase();
    parts.push(d.required ? name : `[${name}]`);
  }
  parts.push("[flags]");
  if (t.cmd.meta.passThrough) parts.push(`-- ${t.cmd.meta.passThrough}`);
  return parts.join(" ");
}

function flagRow(key: string, d: ArgDef): [string, string] {
  const value = d.type === "boolean" ? "" : ` ${d.valueHint ?? "VALUE"}`;
  const names = `${d.alias ? `-${d.alias}, ` : "    "}--${key}${value}`;
  let text = d.description;
  if (d.multiple) text += " (repeatable)";
  if (d.default !== undefined && d.default !== false && d.type !== "boolean") text += ` (default ${d.default})`;
  if (d.aliases?.length) text += ` (also ${d.aliases.map((a) => `--${a}`).join(", ")})`;
  return [names, text];
}

/** Two columns: names padded to the widest (at most a third of the width), text wrapped beside. */
function columns(rows: [string, string][], width: number): string[] {
  const left = Math.min(Math.max(...rows.map(([n]) => n.length), 0), Math.floor(width / 3));
  const out: string[] = [];
  for (const [name, text] of rows) {
    const indent = " ".repeat(2 + left + 3);
    if (name.length > left) {
      out.push(`  ${name}`);
      out.push(...wrap(text, width, indent, indent));
    } else {
      const lines = wrap(text, width - (2 + left + 3), "", "");
      out.push(`  ${name.padEnd(left)}   ${lines[0] ?? ""}`, ...lines.slice(1).map((l) => `${indent}${l}`));
    }
  }
  return out;
}

/** Words wrapped to `width` columns; a word longer than a line stays whole on its own line. */
export function wrap(text: string, width: number, first = "", next = first): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const indent = lines.length === 0 ? first : next;
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = next + word;
    } else line = empty ? indent + word : `${line} ${word}`;
    empty = false;
  }
  if (!empty) lines.push(line);
  return lines;
}

function terminalWidth(): number {
  const cols = process.stdout.isTTY ? process.stdout.columns : Number(process.env.COLUMNS) || 80;
  return Math.max(40, Math.min(cols || 80, 120));
}

function useColor(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && process.env.TERM !== "dumb";
}
