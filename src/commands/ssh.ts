import { sshExec } from "../api/ssh-client.ts";
import { defineCommand } from "../cli/command.ts";
import { cli } from "../cli/context.ts";
import { runTerminal, terminalSize } from "../cli/terminal-io.ts";

/** `shed ssh NAME [-- CMD...]`: the SSH door, as OpenSSH and IDEs use it (the command runs in a login shell). */
export default defineCommand({
  meta: {
    name: "ssh",
    description: "Connect to a shed through the server's SSH door: a shell, or run CMD",
    details: "Needs a key the server accepts (ssh.authorized_keys). `shed console` and `shed exec` need none.",
    passThrough: "CMD [ARGS...]",
    examples: ["shed ssh hello", "shed ssh hello -- make test"],
  },
  args: {
    name: { type: "positional", description: "Shed name", required: true, complete: "shed" },
    tty: { type: "boolean", alias: "t", description: "Allocate a terminal (default: when stdin and stdout are terminals)" },
    "no-tty": { type: "boolean", alias: "T", description: "Never allocate a terminal" },
  },
  async run({ args, rest }) {
    const argv = rest ?? [];
    const tty = args["no-tty"] ? false : (args.tty ?? Boolean(process.stdin.isTTY && process.stdout.isTTY));
    // As with ssh, the words are joined and the remote login shell parses them.
    const proc = await sshExec(cli().client(), args.name, {
      ...(argv.length > 0 ? { command: argv.join(" ") } : {}),
      ...(tty ? { tty: terminalSize() } : {}),
    });
    return runTerminal(proc, tty);
  },
});
