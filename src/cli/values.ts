import { ShedError } from "../api/errors.ts";

/**
 * Flag values checked where they are read: a wrong one is a usage error (exit 2) that names
 * the flag, what it takes and what it got.
 */
function bad(flag: string, takes: string, value: string): ShedError {
  return new ShedError("USAGE", `${flag} takes ${takes}, got "${value}"`);
}

export function numberArg(flag: string, value: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
  const n = Number(value);
  const takes = opts.integer ? "a whole number" : "a number";
  if (value.trim() === "" || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n))) throw bad(flag, takes, value);
  if (opts.min !== undefined && n < opts.min) throw bad(flag, `${takes} of at least ${opts.min}`, value);
  if (opts.max !== undefined && n > opts.max) throw bad(flag, `${takes} of at most ${opts.max}`, value);
  return n;
}

export function portArg(flag: string, value: string): number {
  return numberArg(flag, value, { min: 1, max: 65535, integer: true });
}

/** 30s, 5m, 2h, 1h30m, 500ms or plain seconds -> seconds. */
export function parseDuration(flag: string, value: string): number {
  const v = value.trim();
  const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(v);
  const seconds = /^\d+(\.\d+)?$/.test(v)
    ? Number(v)
    : m && v
      ? Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) + Number(m[4] ?? 0) / 1000
      : Number.NaN;
  if (!(seconds > 0)) throw new ShedError("USAGE", `${flag} takes a duration like 30s, 5m or 2h, got "${value}"`);
  return seconds;
}

/** 8G, 8192M, 8192 (MB), 512m, 1.5g -> MB. */
export function parseMemoryMb(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT])?i?[bB]?$/.exec(value.trim());
  if (!m) throw bad(flag, "a size like 8G, 8192M or 8192 (MB)", value);
  const unit = (m[2] ?? "m").toLowerCase();
  const mb = Number(m[1]) * ({ k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 } as Record<string, number>)[unit]!;
  if (!Number.isInteger(mb) || mb < 1) throw bad(flag, "a whole number of MB (8G, 8192M or 8192)", value);
  return mb;
}

/** `-e K=V` values -> a record (later ones win, as with docker). */
export function parseEnvPairs(flag: string, values: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of values) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new ShedError("USAGE", `${flag} takes KEY=VALUE, got "${pair}"`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** One of a fixed set of words. */
export function choiceArg<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) throw bad(flag, choices.join(", "), value);
  return value as T;
}

export function usageError(message: string): ShedError {
  return new ShedError("USAGE", message);
}
