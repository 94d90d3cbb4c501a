import { basename } from "node:path";
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

/** Invoked by another name (a symlink the image carries): that program's own protocol. */
async function asNamed(name: string, args: string[]): Promise<number | undefined> {
  if (name === "docker-credential-shed") {
    const { runCredentialHelper } = await import("../agent/broker/credential-helper.ts");
    return runCredentialHelper(args, { stdin: () => new Response(Bun.stdin.stream()).text(), stdout: (t) => process.stdout.write(t) });
  }
  if (name === "shed-ext") {
    const { runExt } = await import("../agent/broker/ext-status.ts");
    return runExt(args, (t) => process.stdout.write(t));
  }
  return undefined;
}

const name = basename(process.argv0);
const args = process.argv.slice(2);
const fail = (err: unknown) => {
  process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof ShedError && err.code === "USAGE" ? 2 : 1);
};
// No top-level await: the executable is compiled to bytecode.
asNamed(name, args).then((code) => {
  if (code !== undefined) process.exit(code);
  const [command, ...rest] = args;
  return main(command, rest);
}, fail).catch(fail);
