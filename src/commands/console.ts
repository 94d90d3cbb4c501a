import { defineCommand } from "citty";
import { sshExec } from "../api/ssh-client.ts";
import { cli } from "./context.ts";
import { runTerminal, terminalSize } from "./terminal-io.ts";

/** `shed console NAME`: a login shell through the SSH door; it ends when you disconnect. */
export default defineCommand({
  meta: { name: "console", description: "A shell in a shed (ends when you disconnect; `shed attach` keeps a tmux session)" },
  args: { name: { type: "positional", description: "Shed name", required: true } },
  async run({ args }) {
    return runTerminal(await sshExec(cli().client(), args.name, { tty: terminalSize() }), true);
  },
});
