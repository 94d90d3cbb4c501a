import { defineCommand } from "citty";
import { sshExec } from "../api/ssh-client.ts";
import { cli } from "./context.ts";
import { usageError } from "./main.ts";
import { runTerminal, terminalSize } from "./terminal-io.ts";

/**
 * `shed attach NAME [-S SESSION]`: a tmux session in the shed, made on first attach and
 * rejoined later; Ctrl-B D detaches and leaves what runs in it running.
 */
export default defineCommand({
  meta: { name: "attach", description: "Attach to a persistent tmux session in a shed (created when missing; detach with Ctrl-B D)" },
  args: {
    name: { type: "positional", description: "Shed name", required: true },
    session: { type: "string", alias: "S", description: "Session name", default: "default" },
  },
  async run({ args }) {
    if (!/^[A-Za-z0-9_.-]+$/.test(args.session)) throw usageError(`session names are letters, digits, '.', '_' and '-', not "${args.session}"`);
    const command = `exec tmux new-session -A -s '${args.session}'`;
    return runTerminal(await sshExec(cli().client(), args.name, { command, tty: terminalSize() }), true);
  },
});
