import type { ExecProcess } from "../agent/protocol/api.ts";

/**
 * The local end of a remote process (`shed exec`, `shed ssh`, `console`, `attach`): with a
 * terminal, raw mode and resize; without, pipes with stdout and stderr apart. Returns the
 * remote exit code.
 */
const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;

export function runTerminal(proc: ExecProcess, tty: boolean): Promise<number> {
  return tty ? interactive(proc) : piped(proc);
}

export function terminalSize(): { rows: number; cols: number; term?: string } {
  return { rows: process.stdout.rows || 24, cols: process.stdout.columns || 80, term: process.env.TERM };
}

/** Pipes: stdin streams in, stdout and stderr stay apart, signals are forwarded. */
async function piped(proc: ExecProcess): Promise<number> {
  const forward = (sig: NodeJS.Signals) => proc.signal(sig);
  for (const sig of FORWARDED_SIGNALS) process.on(sig, forward);
  void pumpPipedStdin(proc);
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

/**
 * Stdin that is no terminal, read as Bun reads a file or pipe (a file comes in 512 KiB pieces,
 * not through node's stream layer); each piece waits for the agent's credit before the next
 * read, which is the backpressure. The remote exit ends the reading (an open pipe, -T on a terminal).
 */
async function pumpPipedStdin(proc: ExecProcess): Promise<void> {
  const writer = proc.stdin.getWriter();
  const reader = Bun.stdin.stream().getReader();
  proc.exit.finally(() => reader.cancel().catch(() => {})).catch(() => {});
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await writer.write(value);
    }
    await writer.close();
  } catch {
    // The exec ended (or failed) first: nobody wants the rest.
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
