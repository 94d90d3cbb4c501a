/**
 * Libraries never print: they take a Logger. Entry points choose the implementation: JSON
 * lines for shed-server and shed-agent, silence in tests. The CLI prints through its own
 * output (src/cli/output.ts), not a logger.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

type Level = "debug" | "info" | "warn" | "error";
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** One JSON object per line on a stream (stderr by default): what shed-server and shed-agent log. */
export function jsonLineLogger(
  minLevel: Level = "info",
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const emit = (level: Level, message: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < RANK[minLevel]) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}
