import type { ExecProcess, ExecRequest } from "../agent/protocol/api.ts";

/** What an exec asks for, besides the agent's own fields: its input, a time limit, an output cap. */
export interface RunOptions {
  /** Text (or bytes) written to the command's stdin, which is then closed; none: stdin is closed at once. */
  stdin?: string | Uint8Array;
  /** Past this the command's process group is killed (SIGKILL) and the result says `timedOut`. */
  timeoutSeconds?: number;
  /** The most bytes of stdout and of stderr each kept in the result (default 64 KiB); the rest is counted, not kept. */
  maxOutputBytes?: number;
  /** Aborting kills the command's process group in the shed (SIGKILL). */
  signal?: AbortSignal;
  /** Called as output arrives, with the bytes seen so far on both streams. */
  onOutput?: (bytes: number) => void;
}

export type ExecOptions = ExecRequest & RunOptions;

/** One stream's output as kept: the first and last halves of the cap when it was more. */
export interface CapturedOutput {
  text: string;
  /** How many bytes the command wrote to this stream. */
  bytes: number;
  truncated: boolean;
}

export interface ExecResult {
  /** The exit code as a shell reports it (128+N when killed by signal N). */
  exitCode: number;
  signal?: string;
  stdout: CapturedOutput;
  stderr: CapturedOutput;
  /** The command ran past timeoutSeconds and was killed. */
  timedOut: boolean;
  durationMs: number;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
export const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/** Feeds stdin, drains both streams (a command must never block on a full pipe), enforces time and cancellation. */
export async function collectExec(proc: ExecProcess, opts: RunOptions): Promise<ExecResult> {
  const started = performance.now();
  const cap = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  let seen = 0;
  const count = (n: number) => {
    seen += n;
    opts.onOutput?.(seen);
  };
  let timedOut = false;
  const kill = () => {
    try {
      proc.signal("SIGKILL");
    } catch {
      // already gone
    }
  };
  const timer = opts.timeoutSeconds
    ? setTimeout(() => {
        timedOut = true;
        kill();
      }, opts.timeoutSeconds * 1000)
    : undefined;
  if (opts.signal?.aborted) kill();
  opts.signal?.addEventListener("abort", kill, { once: true });
  try {
    const feed = (async () => {
      const writer = proc.stdin.getWriter();
      if (opts.stdin !== undefined) {
        const data = typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin;
        await writer.write(data).catch(() => {});
      }
      await writer.close().catch(() => {});
    })();
    const [stdout, stderr, status] = await Promise.all([capture(proc.stdout, cap, count), capture(proc.stderr, cap, count), proc.exit, feed]);
    return {
      exitCode: status.code,
      ...(status.signal ? { signal: status.signal } : {}),
      stdout,
      stderr,
      timedOut,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", kill);
  }
}

/** Reads a stream to its end, keeping the first and the last cap/2 bytes of it. */
async function capture(stream: ReadableStream<Uint8Array>, cap: number, count: (n: number) => void): Promise<CapturedOutput> {
  const half = Math.floor(cap / 2);
  const head: Uint8Array[] = [];
  let headBytes = 0;
  const tail: Uint8Array[] = [];
  let tailBytes = 0;
  let bytes = 0;
  for await (const chunk of stream) {
    bytes += chunk.length;
    count(chunk.length);
    if (headBytes < cap - half) {
      const take = chunk.subarray(0, cap - half - headBytes);
      head.push(take);
      headBytes += take.length;
      if (take.length === chunk.length) continue;
      tail.push(chunk.subarray(take.length));
    } else {
      tail.push(chunk);
    }
    tailBytes = tail.reduce((n, c) => n + c.length, 0);
    // Only the last `half` bytes of the rest are kept.
    while (tailBytes - (tail[0]?.length ?? 0) >= half && tail.length > 1) tailBytes -= tail.shift()!.length;
  }
  const decoder = new TextDecoder();
  const headText = decoder.decode(concat(head));
  if (bytes <= cap) return { text: headText + decoder.decode(concat(tail)), bytes, truncated: false };
  const last = concat(tail);
  const kept = last.subarray(Math.max(0, last.length - half));
  const dropped = bytes - headBytes - kept.length;
  return { text: `${headText}\n[... ${dropped} bytes left out ...]\n${decoder.decode(kept)}`, bytes, truncated: true };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
