import { defineCommand } from "citty";
import { sshExec } from "../api/ssh-client.ts";
import { cli } from "./context.ts";
import { commandArgv } from "./exec.ts";
import { runTerminal, terminalSize } from "./terminal-io.ts";

/** `shed ssh NAME [-- CMD...]`: the SSH door, for scripts (the command runs in a login shell). */
export default defineCommand({
  meta: { name: "ssh", description: "Connect to a shed through the server's SSH door: a shell, or run CMD (shed ssh NAME -- CMD)" },
  args: {
    name: { type: "positional", description: "Shed name", required: true },
    tty: { type: "boolean", alias: "t", description: "Allocate a terminal (default: when stdin and stdout are terminals)" },
    "no-tty": { type: "boolean", alias: "T", description: "Never allocate a terminal" },
  },
  async run({ args, rawArgs }) {
    const argv = rawArgs.includes("--") ? commandArgv(rawArgs, args.name) : [];
    const tty = args["no-tty"] ? false : (args.tty ?? Boolean(process.stdin.isTTY && process.stdout.isTTY));
    // As with ssh, the words are joined and the remote login shell parses them.
    const proc = await sshExec(cli().client(), args.name, {
      ...(argv.length > 0 ? { command: argv.join(" ") } : {}),
      ...(tty ? { tty: terminalSize() } : {}),
    });
    return runTerminal(proc, tty);
  },
});
