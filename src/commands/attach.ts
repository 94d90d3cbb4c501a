import { brokerAlongside } from "../cli/broker-loop.ts";
import { defineCommand } from "../cli/command.ts";
import { agentOfRunningShed } from "../cli/running-shed.ts";
import { runTerminal, terminalSize } from "../cli/terminal-io.ts";
import { usageError } from "../cli/values.ts";

/**
 * `shed attach NAME [-S SESSION]`: a tmux session in the shed, made on first attach and
 * rejoined later; Ctrl-B D detaches and leaves what runs in it running. Goes over the API's
 * agent socket (no SSH key needed).
 */
export default defineCommand({
  meta: {
    name: "attach",
    description: "Attach to a persistent tmux session in a shed (made when missing; Ctrl-B D detaches)",
    details: "Needs a terminal. Scripts read sessions with `shed sessions` and run commands with `shed exec`.",
    examples: ["shed attach hello", "shed attach hello -S agent"],
  },
  args: {
    name: { type: "positional", description: "Shed name", required: true, complete: "shed" },
    session: { type: "string", alias: "S", valueHint: "NAME", description: "Session name", default: "default", complete: "session" },
    "no-start": { type: "boolean", description: "Fail when the shed is stopped instead of starting it" },
    broker: { type: "boolean", description: "Broker this machine's ssh-agent, Docker and AWS credentials to the server's sheds while the session lasts (unless a `shed broker` already does)" },
  },
  async run({ args }) {
    if (!/^[A-Za-z0-9_.-]+$/.test(args.session)) throw usageError(`shed attach: session names are letters, digits, '.', '_' and '-', not "${args.session}"`);
    // Refused before anything reaches the shed: a tmux client without a terminal would end the session.
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      throw usageError(`shed attach needs a terminal (stdin and stdout); without one use: shed exec ${args.name} -- tmux ...`);
    }
    const conn = await agentOfRunningShed(args.name, args["no-start"]);
    const stopBroker = args.broker ? brokerAlongside() : undefined;
    try {
      const proc = await conn.exec({ argv: ["tmux", "new-session", "-A", "-s", args.session], tty: terminalSize() });
      return await runTerminal(proc, true);
    } finally {
      stopBroker?.();
      conn.close();
    }
  },
});
