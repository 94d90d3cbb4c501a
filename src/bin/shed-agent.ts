import { ShedError } from "../api/errors.ts";
import { AGENT_USAGE, parseAgentArgs, runAgent } from "../agent/main.ts";
import { runWatch } from "../agent/watch.ts";
import { VERSION } from "../version.ts";

// The guest executable: kept free of CLI frameworks so it starts fast in any image.
async function main(command: string | undefined, rest: string[]): Promise<void> {
  if (command === "version" || command === "--version") {
    process.stdout.write(`shed-agent ${VERSION}\n`);
  } else if (command === "serve") {
    await runAgent(parseAgentArgs(rest), VERSION);
  } else if (command === "watch") {
    await runWatch(rest);
  } else {
    throw new ShedError("USAGE", command ? `unknown command ${command}\n${AGENT_USAGE}` : AGENT_USAGE);
  }
}

// No top-level await: the executable is compiled to bytecode.
const [command, ...rest] = process.argv.slice(2);
main(command, rest).catch((err) => {
  process.stderr.write(`shed-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof ShedError && err.code === "USAGE" ? 2 : 1);
});
