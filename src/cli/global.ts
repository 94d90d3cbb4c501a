import { DEFAULT_TIMEOUT_MS } from "../api/client.ts";
import type { ArgsDef } from "./command.ts";
import type { ProgressMode } from "./output.ts";
import { choiceArg, parseDuration } from "./values.ts";

/**
 * Flags every command takes, before or after the command name (`shed --json list` and
 * `shed list --json`). A command's own flag of the same name wins (`shed stop --timeout`).
 */
export const GLOBAL_ARGS = {
  server: {
    type: "string",
    alias: "s",
    valueHint: "NAME",
    description: "Server to talk to: a name from the config, or HOST:PORT (env SHED_SERVER)",
    complete: "server",
  },
  config: {
    type: "string",
    alias: "c",
    valueHint: "FILE",
    description: "Client config file (env SHED_CONFIG; default ~/.config/shed/config.yaml)",
    complete: "file",
  },
  timeout: {
    type: "string",
    valueHint: "DURATION",
    description: `How long to wait for a server to answer, connecting included (env SHED_TIMEOUT; default ${DEFAULT_TIMEOUT_MS / 1000}s; 0: no limit)`,
  },
  json: { type: "boolean", description: "Print the result as one JSON document (errors as JSON on stderr)" },
  progress: {
    type: "string",
    valueHint: "MODE",
    description: "Progress on stderr: auto, plain, json (JSON lines) or none (default: auto; none with --json)",
    complete: ["auto", "plain", "json", "none"],
  },
  verbose: { type: "boolean", alias: "v", description: "More detail (on stderr; wider tables)" },
  help: { type: "boolean", alias: "h", description: "Show help for the command" },
} as const satisfies ArgsDef;

export interface GlobalOptions {
  server?: string;
  verbose: boolean;
  json: boolean;
  progress?: ProgressMode;
  /** Milliseconds; 0 for no limit. */
  timeoutMs: number;
}

/** The global flags as parsed, with the environment's SHED_* filling what they leave out. */
export function globalOptions(values: Record<string, unknown>, commandArgs: ArgsDef = {}): GlobalOptions {
  // A command's own flag of the same name is not the global one.
  const own = (key: string) => (key in commandArgs ? undefined : values[key]);
  const timeout = (own("timeout") as string | undefined) ?? process.env.SHED_TIMEOUT;
  const progress = own("progress") as string | undefined;
  return {
    server: (own("server") as string | undefined) || process.env.SHED_SERVER || undefined,
    verbose: Boolean(values.verbose),
    json: Boolean(own("json")),
    ...(progress ? { progress: choiceArg("--progress", progress, ["auto", "plain", "json", "none"] as const) } : {}),
    timeoutMs: timeout === undefined ? DEFAULT_TIMEOUT_MS : timeout === "0" ? 0 : Math.round(parseDuration(own("timeout") ? "--timeout" : "SHED_TIMEOUT", timeout) * 1000),
  };
}

/** `--json` anywhere before `--`: how to print an error found before the command line is parsed. */
export function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end >= 0 ? argv.slice(0, end) : argv).includes("--json");
}
