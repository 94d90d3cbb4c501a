import { ShedError } from "../api/errors.ts";
import type { ArgDef, ArgsDef } from "./command.ts";

/**
 * The strict command-line parser: every flag must be known (else exit 2 naming it and the
 * closest one), repeatable flags keep every value, positionals are counted, `--` ends the
 * flags. Flags may come before, between or after the positionals, as with docker and gh.
 */
export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  /** The words after `--`; undefined when there was none. */
  rest: string[] | undefined;
}

export interface ParseOptions {
  /** `shed exec NAME ls -la`: once the `multiple` positional starts, every word is its. */
  stopAtCommand?: boolean;
  /** For messages: "shed stop". */
  command: string;
}

export function parseArgv(tokens: string[], defs: ArgsDef, opts: ParseOptions): Parsed {
  const long = new Map<string, [string, ArgDef]>();
  const short = new Map<string, [string, ArgDef]>();
  for (const [key, def] of Object.entries(defs)) {
    if (def.type === "positional") continue;
    long.set(key, [key, def]);
    for (const a of def.aliases ?? []) long.set(a, [key, def]);
    if (def.alias) short.set(def.alias, [key, def]);
  }
  const positionalDefs = Object.entries(defs).filter(([, d]) => d.type === "positional");
  const singles = positionalDefs.filter(([, d]) => !d.multiple).length;
  const values: Parsed["values"] = {};
  const positionals: string[] = [];
  let rest: string[] | undefined;
  let stopped = false;

  const set = (key: string, def: ArgDef, value: string | boolean) => {
    if (def.multiple) values[key] = [...((values[key] as string[] | undefined) ?? []), String(value)];
    else values[key] = value;
  };
  const needValue = (flag: string, def: ArgDef, value: string | undefined): string => {
    if (value === undefined) throw usage(`${flag} needs a value${def.valueHint ? ` (${def.valueHint})` : ""}`, opts);
    return value;
  };

  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok === "--") {
      rest = tokens.slice(i + 1);
      break;
    }
    if (stopped || tok === "-" || !tok.startsWith("-")) {
      positionals.push(tok);
      if (opts.stopAtCommand && positionals.length > singles) stopped = true;
      continue;
    }
    if (tok.startsWith("--")) {
      const eq = tok.indexOf("=");
      const name = tok.slice(2, eq > 0 ? eq : undefined);
      const inline = eq > 0 ? tok.slice(eq + 1) : undefined;
      const found = long.get(name);
      if (!found && name.startsWith("no-")) {
        const negated = long.get(name.slice(3));
        if (negated && negated[1].type === "boolean" && inline === undefined) {
          values[negated[0]] = false;
          continue;
        }
      }
      if (!found) throw unknownFlag(`--${name}`, [...long.entries()], opts);
      const [key, def] = found;
      if (def.type === "boolean") {
        if (inline !== undefined && inline !== "true" && inline !== "false") {
          throw usage(`--${name} is a switch: give it alone, or as --${name}=true|false (not "${inline}")`, opts);
        }
        set(key, def, inline !== "false");
      } else set(key, def, needValue(`--${name}`, def, inline ?? tokens[++i]));
      continue;
    }
    // -abc: switches together; a flag that takes a value takes the rest of the word or the next one.
    const letters = tok.slice(1);
    for (let j = 0; j < letters.length; j++) {
      const letter = letters[j]!;
      const found = short.get(letter);
      if (!found) throw unknownFlag(`-${letter}`, [...long.entries()], opts, j === 0 ? `-${letters}` : undefined);
      const [key, def] = found;
      if (def.type === "boolean") {
        set(key, def, true);
        continue;
      }
      const inline = letters.slice(j + 1).replace(/^=/, "");
      set(key, def, needValue(`-${letter}`, def, inline || tokens[++i]));
      break;
    }
  }

  // Positionals in order; a `multiple` one takes what is left.
  let at = 0;
  for (const [key, def] of positionalDefs) {
    if (def.multiple) {
      values[key] = positionals.slice(at);
      at = positionals.length;
    } else if (at < positionals.length) values[key] = positionals[at++];
  }
  if (at < positionals.length) {
    const extra = positionals.slice(at);
    const takes = positionalDefs.map(([k]) => k.toUpperCase()).join(" ");
    throw usage(
      `unexpected argument${extra.length > 1 ? "s" : ""} ${extra.map((e) => `"${e}"`).join(" ")}: ${opts.command} takes ${takes ? takes : "no arguments"}`,
      opts,
    );
  }
  for (const [key, def] of Object.entries(defs)) {
    const value = values[key];
    const empty = value === undefined || (Array.isArray(value) && value.length === 0);
    if (def.required && empty) {
      throw usage(def.type === "positional" ? `missing ${key.toUpperCase()} (${def.description})` : `--${key} is required`, opts);
    }
    if (value === undefined) values[key] = def.multiple ? [] : def.default;
  }
  return { values, rest };
}

function usage(message: string, opts: ParseOptions): ShedError {
  return new ShedError("USAGE", `${opts.command}: ${message}`);
}

function unknownFlag(flag: string, known: [string, [string, ArgDef]][], opts: ParseOptions, word?: string): ShedError {
  // `-force` (one dash) finds --force as `--forse` does.
  const guess = closest(word ?? flag, known.map(([name]) => `--${name}`));
  return usage(`unknown flag ${flag}${word && word.length > 2 ? ` (in ${word})` : ""}${guess ? `; did you mean ${guess}?` : ""}`, opts);
}

/** The candidate closest to `word` (edits, swaps and prefixes), if any is close enough. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  const w = word.replace(/^-+/, "");
  for (const c of candidates) {
    const bare = c.replace(/^-+/, "");
    const d = bare.startsWith(w) && w.length >= 2 ? 0.5 : editDistance(w, bare);
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  const limit = w.length <= 3 ? 1 : w.length <= 6 ? 2 : 3;
  return bestScore <= limit ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
