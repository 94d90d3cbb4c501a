import { defineCommand } from "citty";
import { openShedAgent } from "../api/agent-client.ts";
import { ShedError } from "../api/errors.ts";
import { cli } from "./context.ts";
import { parseEnvPairs } from "./env-args.ts";
import { runTerminal, terminalSize } from "./terminal-io.ts";

export default defineCommand({
  meta: { name: "exec", description: "Run a command in a shed: shed exec NAME [flags] -- CMD [ARGS...]" },
  args: {
    name: { type: "positional", description: "Shed name", required: true },
    user: { type: "string", alias: "u", description: "User to run as (default: shed; root for root)" },
    workdir: { type: "string", alias: "w", description: "Working directory (default: /workspace, else home)" },
    env: { type: "string", alias: "e", description: "K=V for the command (repeatable)" },
    tty: { type: "boolean", alias: "t", description: "Allocate a terminal (default: when stdin and stdout are terminals)" },
    "no-tty": { type: "boolean", alias: "T", description: "Never allocate a terminal" },
    start: { type: "boolean", description: "Start the shed first if it is stopped" },
  },
  async run({ args, rawArgs }) {
    const argv = commandArgv(rawArgs, args.name);
    if (argv.length === 0) throw new ShedError("USAGE", "nothing to run: shed exec NAME -- CMD [ARGS...]");
    const tty = args["no-tty"] ? false : (args.tty ?? (process.stdin.isTTY && process.stdout.isTTY));
    const conn = await openShedAgent(cli().client().endpoint, args.name, { start: args.start });
    const proc = await conn.exec({
      argv,
      ...(args.user ? { user: args.user } : {}),
      ...(args.workdir ? { cwd: args.workdir } : {}),
      ...(args.env ? { env: parseEnvPairs(args.env) } : {}),
      ...(tty ? { tty: terminalSize() } : {}),
    });
    const status = await runTerminal(proc, Boolean(tty));
    conn.close();
    return status;
  },
});

/** Everything after `--` verbatim; without `--`, the positionals after the name. */
export function commandArgv(rawArgs: string[], name: string): string[] {
  const dash = rawArgs.indexOf("--");
  if (dash >= 0) return rawArgs.slice(dash + 1);
  const at = rawArgs.indexOf(name);
  return rawArgs.slice(at + 1).filter((a) => !a.startsWith("-"));
}
