import { ShedError, toShedError } from "../api/errors.ts";
import type { AnyCommand } from "./command.ts";
import { cli, setCliContext } from "./context.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";
import { GLOBAL_ARGS, globalOptions, wantsJson } from "./global.ts";
import { type HelpTarget, renderHelp } from "./help.ts";
import { Output } from "./output.ts";
import { closest, parseArgv } from "./parse.ts";
import { aliases, commands } from "./registry.ts";


/** Runs the CLI and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (err) {
    return reportError(err, wantsJson(argv));
  }
}

async function dispatch(argv: string[]): Promise<number> {
  const head = argv.indexOf("--") >= 0 ? argv.slice(0, argv.indexOf("--")) : argv;
  const words = commandWords(argv);
  if (words.length === 0) {
    if (head.includes("--version")) return dispatch(["version", ...argv.filter((a) => a !== "--version")]);
    await print(renderHelp(await rootTarget()));
    return EXIT_OK;
  }
  // `shed help CMD [SUB]` is `shed CMD [SUB] --help`.
  if (argv[words[0]!] === "help") {
    const rest = argv.filter((_, i) => i !== words[0]);
    return dispatch(rest.some((a) => !a.startsWith("-")) ? [...rest, "--help"] : ["--help"]);
  }
  const { target, used } = await resolveCommand(argv, words);
  const tokens = argv.filter((_, i) => !used.includes(i));
  const tokenHead = tokens.indexOf("--") >= 0 ? tokens.slice(0, tokens.indexOf("--")) : tokens;
  if (tokenHead.includes("--help") || tokenHead.includes("-h") || (!target.cmd.run && target.subs)) {
    await print(renderHelp(target));
    return EXIT_OK;
  }
  const cmdArgs = target.cmd.args ?? {};
  const parsed = parseArgv(tokens, { ...GLOBAL_ARGS, ...cmdArgs }, { command: target.path, stopAtCommand: target.cmd.meta.stopAtCommand });
  const globals = globalOptions(parsed.values, cmdArgs);
  if (parsed.values.config && !("config" in cmdArgs)) process.env.SHED_CONFIG = String(parsed.values.config);
  setCliContext(globals, { preconnect: target.cmd.meta.preconnect === true });
  if (parsed.rest !== undefined && !target.cmd.meta.passThrough) {
    throw new ShedError("USAGE", `${target.path}: takes nothing after --`);
  }
  const result = await target.cmd.run!({ args: parsed.values as never, rest: parsed.rest });
  return typeof result === "number" ? result : EXIT_OK;
}

/** Indices of the words that are not flags or flag values, before `--` (global flags' values skipped). */
function commandWords(argv: string[]): number[] {
  const takesValue = new Set<string>();
  for (const [k, d] of Object.entries(GLOBAL_ARGS)) {
    if (d.type !== "string") continue;
    takesValue.add(`--${k}`);
    if ("alias" in d) takesValue.add(`-${d.alias}`);
  }
  const out: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (takesValue.has(a)) i++;
    else if (!a.startsWith("-") || a === "-") out.push(i);
  }
  return out;
}

/** The command the words name: top-level, then subcommands as long as the words match. */
async function resolveCommand(argv: string[], words: number[]): Promise<{ target: HelpTarget; used: number[] }> {
  const first = argv[words[0]!]!;
  const name = commands[first] && first !== "complete" ? first : aliases[first];
  if (!name && first !== "complete") {
    const guess = closest(first, [...Object.keys(commands).filter((c) => c !== "complete"), ...Object.keys(aliases)]);
    throw new ShedError("USAGE", `unknown command "${first}" for shed${guess ? `; did you mean ${guess}?` : ""} (shed --help lists them)`);
  }
  let cmd = await commands[name ?? first]!();
  let path = `shed ${name ?? first}`;
  const used = [words[0]!];
  for (const at of words.slice(1)) {
    if (!cmd.subCommands) break;
    const word = argv[at]!;
    const next = cmd.subCommands[word];
    if (!next) {
      if (cmd.run) break; // a positional of the group's own command (`shed sessions NAME`)
      const guess = closest(word, Object.keys(cmd.subCommands));
      throw new ShedError("USAGE", `unknown command "${word}" for ${path}${guess ? `; did you mean ${guess}?` : ""} (${path} --help lists them)`);
    }
    cmd = await next();
    path = `${path} ${word}`;
    used.push(at);
  }
  return { target: { path, cmd, subs: cmd.subCommands ? await loadSubs(cmd) : undefined }, used };
}

/** A group's subcommands, each once (aliases point at the same command). */
async function loadSubs(cmd: AnyCommand): Promise<[string, AnyCommand][]> {
  const seen = new Set<AnyCommand>();
  const out: [string, AnyCommand][] = [];
  for (const [name, load] of Object.entries(cmd.subCommands ?? {})) {
    const sub = await load();
    if (seen.has(sub)) continue;
    seen.add(sub);
    out.push([name, sub]);
  }
  return out;
}

async function rootTarget(): Promise<HelpTarget> {
  const root: AnyCommand = {
    meta: {
      name: "shed",
      description: "Persistent development environments (sheds) on your servers: create them, run commands and shells in them, come back later",
      details:
        "Environment: SHED_SERVER (server name or HOST:PORT), SHED_TOKEN (API token, so it is never on a command line), " +
        "SHED_CONFIG (client config file), SHED_CONFIG_DIR (config dir, default ~/.config/shed), SHED_TIMEOUT (as --timeout), NO_COLOR.\n" +
        "Exit codes: 0 ok; 2 usage (a wrong flag or argument); 125 shed itself failed (the server or the shed said no, or could not be reached); " +
        "exec and ssh exit with the remote command's own code (126 not executable, 127 not found, 128+N killed by signal N).",
      examples: ["shed create hello -i shed/dev:bookworm", "shed exec hello -- uname -a", "shed console hello", "shed help exec"],
    },
    subCommands: Object.fromEntries(Object.entries(commands).filter(([k]) => k !== "complete")),
  };
  return { path: "shed", cmd: root, subs: await loadSubs(root) };
}

function reportError(err: unknown, json: boolean): number {
  const out = currentOutput(json);
  const shedErr = toShedError(err);
  out.error(shedErr.toJSON());
  if (out.verbose && shedErr.cause) process.stderr.write(`cause: ${String(shedErr.cause)}\n`);
  if (shedErr.code === "USAGE" && !json) process.stderr.write("Run with --help for usage.\n");
  return shedErr.code === "USAGE" ? EXIT_USAGE : EXIT_FAILURE;
}

function currentOutput(json: boolean): Output {
  try {
    return cli().out;
  } catch {
    return new Output({ json, verbose: false });
  }
}

function print(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}
