import { openShedAgent } from "../api/agent-client.ts";
import { defineCommand } from "../cli/command.ts";
import { cli } from "../cli/context.ts";
import { runTerminal, terminalSize } from "../cli/terminal-io.ts";
import { parseEnvPairs, usageError } from "../cli/values.ts";

export default defineCommand({
  meta: {
    name: "exec",
    description: "Run a command in a shed and exit with its exit code",
    details:
      "The argv reaches the shed exactly and runs as the shed user in /workspace with that user's login environment " +
      "and the shed's own -e values. stdout and stderr stay apart. A terminal is used when stdin and stdout are terminals (-t forces one, -T never). " +
      "Flags go before the command: everything from the command's first word on is its own.",
    passThrough: "CMD [ARGS...]",
    stopAtCommand: true,
    examples: [
      "shed exec hello -- uname -a",
      "shed exec hello -u root -e DEBUG=1 -e LANG=C -- apt-get update",
      "tar c . | shed exec hello -- tar x -C /workspace",
      "shed exec -t hello -- bash",
    ],
  },
  args: {
    name: { type: "positional", description: "Shed name", required: true, complete: "shed" },
    command: { type: "positional", multiple: true, description: "The command and its arguments (or give them after --)" },
    user: { type: "string", alias: "u", valueHint: "USER", description: "User to run as (default: shed; root for root)" },
    workdir: { type: "string", alias: "w", valueHint: "DIR", description: "Working directory (default: /workspace, else home)" },
    env: { type: "string", alias: "e", multiple: true, valueHint: "K=V", description: "An environment variable for the command" },
    tty: { type: "boolean", alias: "t", description: "Allocate a terminal (default: when stdin and stdout are terminals)" },
    "no-tty": { type: "boolean", alias: "T", description: "Never allocate a terminal" },
    interactive: { type: "boolean", alias: "i", description: "Keep stdin open (always so: accepted for docker habits)" },
    start: { type: "boolean", description: "Start the shed first if it is stopped" },
  },
  async run({ args, rest }) {
    const argv = [...args.command, ...(rest ?? [])];
    if (argv.length === 0) throw usageError("shed exec: nothing to run: shed exec NAME -- CMD [ARGS...]");
    // Everything the command line can get wrong is checked before the connection is opened.
    const env = args.env.length ? parseEnvPairs("-e", args.env) : undefined;
    const tty = args["no-tty"] ? false : (args.tty ?? Boolean(process.stdin.isTTY && process.stdout.isTTY));
    const conn = await openShedAgent(cli().client(), args.name, { start: args.start });
    try {
      const proc = await conn.exec({
        argv,
        ...(args.user ? { user: args.user } : {}),
        ...(args.workdir ? { cwd: args.workdir } : {}),
        ...(env ? { env } : {}),
        ...(tty ? { tty: terminalSize() } : {}),
      });
      return await runTerminal(proc, tty);
    } finally {
      conn.close();
    }
  },
});
