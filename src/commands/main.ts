import { defineCommand, renderUsage, runCommand } from "citty";
import { type ErrorBody, ShedError, toShedError } from "../api/errors.ts";
import { VERSION } from "../version.ts";
import { cli, setCliContext } from "./context.ts";
import { extractGlobalOptions } from "./global.ts";
import { type AnyCommand, aliases, commands } from "./registry.ts";

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

const GLOBAL_HELP = `
Global options (before or after the command):
  -s, --server NAME   Server to talk to (default: the config's default_server, else local)
  -v, --verbose       More detail on stderr
      --json          Machine-readable output: one JSON value per line, errors included`;

function rootCommand(): AnyCommand {
  return defineCommand({
    meta: { name: "shed", version: VERSION, description: "Persistent development environments" },
    subCommands: commands,
  });
}

/** Runs the CLI and returns the process exit code: 0 ok, 1 error from the server, 2 usage. */
export async function main(argv: string[]): Promise<number> {
  let extracted: ReturnType<typeof extractGlobalOptions>;
  try {
    extracted = extractGlobalOptions(argv);
  } catch (err) {
    setCliContext({ json: argv.includes("--json"), verbose: false }).out.error({
      code: "USAGE",
      message: (err as Error).message,
    });
    return EXIT_USAGE;
  }
  const { globals, rest } = extracted;
  const ctx = setCliContext(globals);
  const root = rootCommand();

  if (rest.length === 0 || rest[0] === "--help" || rest[0] === "-h" || rest[0] === "help") {
    process.stdout.write(`${await renderUsage(root)}\n${GLOBAL_HELP}\n`);
    return rest.length === 0 ? EXIT_USAGE : EXIT_OK;
  }
  if (rest[0] === "--version") rest[0] = "version";
  if (rest[0] && aliases[rest[0]]) rest[0] = aliases[rest[0]]!;

  try {
    const path = await helpPath(root, rest);
    if (path) {
      process.stdout.write(`${await renderUsage(path.cmd, path.parent)}\n${GLOBAL_HELP}\n`);
      return EXIT_OK;
    }
    // Run the named command itself: citty drops a subcommand's return value (exec's exit code).
    const top = rest[0] ? commands[rest[0]] : undefined;
    const { result } = top
      ? await runCommand(await top(), { rawArgs: rest.slice(1) })
      : await runCommand(root, { rawArgs: rest });
    return typeof result === "number" ? result : EXIT_OK;
  } catch (err) {
    return reportError(err, ctx.globals.json);
  }
}

function reportError(err: unknown, json: boolean): number {
  const out = cli().out;
  if (isCittyUsageError(err)) {
    out.error({ code: "USAGE", message: stripAnsi((err as Error).message) });
    if (!json) process.stderr.write("Run with --help for usage.\n");
    return EXIT_USAGE;
  }
  const shedErr = toShedError(err);
  const body: ErrorBody = shedErr.toJSON();
  out.error(body);
  if (out.verbose && shedErr.cause) process.stderr.write(`cause: ${String(shedErr.cause)}\n`);
  return shedErr.code === "USAGE" ? EXIT_USAGE : EXIT_ERROR;
}

function isCittyUsageError(err: unknown): boolean {
  return err instanceof Error && err.name === "CLIError" && !(err instanceof ShedError);
}

/** `--help`/`-h` anywhere (before `--`): the usage of the deepest command named. */
async function helpPath(
  root: AnyCommand,
  args: string[],
): Promise<{ cmd: AnyCommand; parent?: AnyCommand } | undefined> {
  const dashdash = args.indexOf("--");
  const head = dashdash >= 0 ? args.slice(0, dashdash) : args;
  if (!head.includes("--help") && !head.includes("-h")) return undefined;
  let cmd = root;
  let parent: AnyCommand | undefined;
  for (const word of head) {
    if (word.startsWith("-")) continue;
    const subs = await resolve(cmd.subCommands);
    const next = subs?.[word];
    if (!next) break;
    parent = cmd;
    const resolved = await resolve(next);
    if (!resolved) break;
    cmd = resolved;
  }
  return { cmd, parent };
}

async function resolve<T>(x: T | Promise<T> | (() => T | Promise<T>) | undefined): Promise<T | undefined> {
  return typeof x === "function" ? (x as () => T | Promise<T>)() : x;
}

function stripAnsi(s: string): string {
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}

export function usageError(message: string): ShedError {
  return new ShedError("USAGE", message);
}
