import { brokerAlongside } from "../cli/broker-loop.ts";
import { defineCommand } from "../cli/command.ts";
import { agentOfRunningShed } from "../cli/running-shed.ts";
import { runTerminal, terminalSize } from "../cli/terminal-io.ts";

/**
 * `shed console NAME`: the shed user's login shell over the API's agent socket (no SSH key
 * needed). On a terminal it is interactive; with piped input it runs that input and exits
 * with the shell's status at its end.
 */
export default defineCommand({
  meta: {
    name: "console",
    description: "Open a shell in a shed (it ends when you leave; `shed attach` keeps a tmux session)",
    details: "Without a terminal the shell reads its commands from stdin and exits at its end with the last command's status.",
    examples: ["shed console hello", "echo 'make test' | shed console hello"],
  },
  args: {
    name: { type: "positional", description: "Shed name", required: true, complete: "shed" },
    "no-start": { type: "boolean", description: "Fail when the shed is stopped instead of starting it" },
    broker: { type: "boolean", description: "Broker this machine's ssh-agent, Docker and AWS credentials to the server's sheds while the session lasts (unless a `shed broker` already does)" },
  },
  async run({ args }) {
    const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
    const conn = await agentOfRunningShed(args.name, args["no-start"]);
    const stopBroker = args.broker ? brokerAlongside() : undefined;
    try {
      // The user's own login shell (SHELL comes from the guest's passwd), as the SSH door starts it.
      const proc = await conn.exec({ argv: ["/bin/sh", "-c", 'exec "$SHELL" -l'], login: false, ...(tty ? { tty: terminalSize() } : {}) });
      return await runTerminal(proc, tty);
    } finally {
      stopBroker?.();
      conn.close();
    }
  },
});
