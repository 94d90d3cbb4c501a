import { defineCommand } from "citty";
import type { ExecProcess } from "../agent/protocol/api.ts";
import { openShedAgent } from "../api/agent-client.ts";
import { ShedError } from "../api/errors.ts";
import { cli } from "./context.ts";
import { parseEnvPairs } from "./env-args.ts";

const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;

export default defineCommand({
  meta: { name: "exec", description: "Run a command in a shed: shed exec NAME [flags] -- CMD [ARGS...]" },
  args: {
    name: { type: "positional", description: "Shed name", required: true },
    user: { type: "string", alias: "u", description: "User to run as (default: shed; root for root)" },
    workdir: { type: "string", alias: "w", description: "Working directory (default: /workspace, else home)" },
    env: { type: "string", alias: "e", description: "K=V for the command (repeatable)" },
    tty: { type: "boolean", alias: "t", description: "Allocate a terminal (default: when stdin and stdout are terminals)" },
    "no-tty": { type: "boolean", alias: "T", description: "Never allocate a terminal" },
    start: { type: "boolean", description: "Start the shed first if it is stopped" },
  },
  async run({ args, rawArgs }) {
    const argv = commandArgv(rawArgs, args.name);
    if (argv.length === 0) throw new ShedError("USAGE", "nothing to run: shed exec NAME -- CMD [ARGS...]");
    const tty = args["no-tty"] ? false : (args.tty ?? (process.stdin.isTTY && process.stdout.isTTY));
    const conn = await openShedAgent(cli().client().endpoint, args.name, { start: args.start });
    const proc = await conn.exec({
      argv,
      ...(args.user ? { user: args.user } : {}),
      ...(args.workdir ? { cwd: args.workdir } : {}),
      ...(args.env ? { env: parseEnvPairs(args.env) } : {}),
      ...(tty ? { tty: terminalSize() } : {}),
    });
    const status = tty ? await interactive(proc) : await piped(proc);
    conn.close();
    return status;
  },
});

/** Everything after `--` verbatim; without `--`, the positionals after the name. */
function commandArgv(rawArgs: string[], name: string): string[] {
  const dash = rawArgs.indexOf("--");
  if (dash >= 0) return rawArgs.slice(dash + 1);
  const at = rawArgs.indexOf(name);
  return rawArgs.slice(at + 1).filter((a) => !a.startsWith("-"));
}

function terminalSize(): { rows: number; cols: number; term?: string } {
  return { rows: process.stdout.rows || 24, cols: process.stdout.columns || 80, term: process.env.TERM };
}

/** Pipes: stdin streams in, stdout and stderr stay apart, signals are forwarded. */
async function piped(proc: ExecProcess): Promise<number> {
  const forward = (sig: NodeJS.Signals) => proc.signal(sig);
  for (const sig of FORWARDED_SIGNALS) process.on(sig, forward);
  pumpStdin(proc);
  const [status] = await Promise.all([proc.exit, drainTo(proc.stdout, Bun.stdout), drainTo(proc.stderr, Bun.stderr)]);
  return status.code;
}

/** A terminal: raw mode, our window size follows, keys (Ctrl-C too) go to the remote PTY. */
async function interactive(proc: ExecProcess): Promise<number> {
  const stdin = process.stdin;
  if (stdin.isTTY) stdin.setRawMode(true);
  const onResize = () => proc.resize(process.stdout.rows || 24, process.stdout.columns || 80);
  process.stdout.on("resize", onResize);
  process.on("SIGWINCH", onResize);
  process.on("SIGHUP", () => proc.signal("SIGHUP"));
  pumpStdin(proc);
  try {
    const [status] = await Promise.all([proc.exit, drainTo(proc.stdout, Bun.stdout)]);
    return status.code;
  } finally {
    if (stdin.isTTY) stdin.setRawMode(false);
  }
}

function pumpStdin(proc: ExecProcess): void {
  const writer = proc.stdin.getWriter();
  const stdin = process.stdin;
  stdin.on("data", (chunk: Buffer) => {
    // Backpressure: pause the terminal or pipe until the agent took this piece.
    stdin.pause();
    writer.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)).then(
      () => stdin.resume(),
      () => stdin.destroy(),
    );
  });
  stdin.on("end", () => writer.close().catch(() => {}));
  // The remote exit ends the command even if our stdin never ends (a terminal, an open pipe).
  proc.exit.finally(() => stdin.destroy()).catch(() => {});
}

async function drainTo(stream: ReadableStream<Uint8Array>, file: typeof Bun.stdout): Promise<void> {
  const sink = file.writer({ highWaterMark: 1024 * 1024 });
  for await (const chunk of stream) {
    sink.write(chunk);
    await sink.flush();
  }
  await sink.flush();
}
