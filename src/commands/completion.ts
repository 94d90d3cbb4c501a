import { defineCommand } from "../cli/command.ts";
import { usageError } from "../cli/values.ts";

const SHELLS = ["bash", "zsh", "fish"] as const;

/** `shed completion bash|zsh|fish`: the script that asks `shed complete` for candidates. */
export default defineCommand({
  meta: {
    name: "completion",
    description: "Print the shell completion script for bash, zsh or fish",
    details:
      "Completes commands, flags, and shed, image and server names (asked of the current server, briefly; nothing when it does not answer). " +
      "Bash needs the bash-completion package.",
    examples: ["source <(shed completion bash)", "shed completion zsh > ~/.zfunc/_shed", "shed completion fish > ~/.config/fish/completions/shed.fish"],
  },
  args: { shell: { type: "positional", required: true, description: "bash, zsh or fish", complete: SHELLS } },
  async run({ args }) {
    if (!(SHELLS as readonly string[]).includes(args.shell)) throw usageError(`shed completion: takes bash, zsh or fish, not "${args.shell}"`);
    const { script } = await import("@bomb.sh/tab");
    const compiled = process.argv[1]?.startsWith("/$bunfs");
    script(args.shell, "shed", compiled ? process.execPath : "shed");
  },
});
