/**
 * How a command is declared: its words, its arguments as data (the parser, the help, the
 * completion and the README table all read them), and what it runs. Shaped like citty's.
 */
export type Completer = "shed" | "backend" | "image" | "server" | "session" | "tunnel" | "file" | readonly string[];

export interface ArgDef {
  type: "positional" | "string" | "boolean";
  description: string;
  /** One letter: `-e`. */
  alias?: string;
  /** Other long names (`--time` for `--timeout`). */
  aliases?: readonly string[];
  default?: string | boolean;
  required?: boolean;
  /** A flag that may be repeated (every value kept, in order); a positional that takes the rest. */
  multiple?: boolean;
  /** What the value looks like in help: `K=V`, `DURATION`. */
  valueHint?: string;
  /** Where completion finds candidates for the value. */
  complete?: Completer;
}

export type ArgsDef = Record<string, ArgDef>;

type ValueOf<A extends ArgDef> = A["type"] extends "boolean" ? boolean : A extends { multiple: true } ? string[] : string;
type AlwaysSet<A extends ArgDef> = A extends { required: true }
  ? true
  : A extends { default: string | boolean }
    ? true
    : A extends { multiple: true }
      ? true
      : false;

export type ParsedArgs<T extends ArgsDef> = {
  -readonly [K in keyof T]: AlwaysSet<T[K]> extends true ? ValueOf<T[K]> : ValueOf<T[K]> | undefined;
};

export interface CommandMeta {
  name: string;
  /** One line, no full stop: what the command does. */
  description: string;
  /** More text for `--help`, after the summary. */
  details?: string;
  /** Command lines shown under Examples (at least one per command). */
  examples?: readonly string[];
  /** Other words for this command (`ls` for `list`). */
  aliases?: readonly string[];
  hidden?: boolean;
  /** What follows `--` (exec, ssh): shown in the usage line. */
  passThrough?: string;
  /** Flags stop at the first word of a `multiple` positional (`shed exec NAME ls -la`), as docker exec. */
  stopAtCommand?: boolean;
  /**
   * Its first call to the server is an API request (JSON or SSE), not the agent WebSocket:
   * to a pinned HTTPS server that connection is opened as the command starts, so its TLS
   * handshake overlaps the command's own start-up (see src/api/pinned-http.ts).
   */
  preconnect?: boolean;
}

export interface RunContext<T extends ArgsDef> {
  args: ParsedArgs<T>;
  /** The words after `--`, verbatim; undefined when there was no `--`. */
  rest: string[] | undefined;
}

export interface CommandDef<T extends ArgsDef = ArgsDef> {
  meta: CommandMeta;
  args?: T;
  subCommands?: Record<string, () => Promise<AnyCommand>>;
  /** Returns the exit code (exec), or nothing for 0. */
  run?: (ctx: RunContext<T>) => Promise<unknown> | unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: a command of any args (run is contravariant in them)
export type AnyCommand = CommandDef<any>;

export function defineCommand<const T extends ArgsDef>(def: CommandDef<T>): CommandDef<T> {
  return def;
}

/** Lazy subcommands: `sub(() => import("./ls.ts"))`. */
export function sub(load: () => Promise<{ default: AnyCommand }>): () => Promise<AnyCommand> {
  return () => load().then((m) => m.default);
}
