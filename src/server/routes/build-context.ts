import { ShedError } from "../../api/errors.ts";

/**
 * A build context must be a tar (plain, or compressed as the Docker engine takes it). Its
 * first 512 bytes are checked before anything reaches the engine, and a plain or gzip tar is
 * followed block by block as the engine reads it: when the engine then fails, a context that
 * was no whole tar makes it a 400 saying so, not an engine failure.
 */
export interface CheckedContext {
  stream: ReadableStream<Uint8Array>;
  /** What was wrong with the tar, once the engine has read it; undefined when nothing was. */
  problem(): string | undefined;
}

export async function checkBuildContext(body: ReadableStream<Uint8Array>): Promise<CheckedContext> {
  const reader = body.getReader();
  const head: Uint8Array[] = [];
  let size = 0;
  let ended = false;
  while (size < 512) {
    const { value, done } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    head.push(value);
    size += value.byteLength;
  }
  const bytes = Buffer.concat(head);
  const kind = archiveKind(bytes);
  if (!kind) {
    await reader.cancel().catch(() => {});
    throw new ShedError("INVALID_REQUEST", "the build context is not a tar archive (nor a gzip, bzip2 or xz one); send a tar of the build context");
  }
  const replay = new ReadableStream<Uint8Array>({
    start(ctrl) {
      ctrl.enqueue(bytes);
      if (ended) ctrl.close();
    },
    async pull(ctrl) {
      try {
        const { value, done } = await reader.read();
        if (done) ctrl.close();
        else ctrl.enqueue(value);
      } catch (err) {
        ctrl.error(err);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
  if (kind !== "tar" && kind !== "gzip") return { stream: replay, problem: () => undefined };
  const walker = new TarWalker();
  const [toEngine, toCheck] = replay.tee();
  const plain = kind === "gzip" ? toCheck.pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>) : toCheck;
  void (async () => {
    for await (const chunk of plain) walker.push(chunk);
    walker.end();
  })().catch((err) => walker.fail(`it is not a whole gzip stream (${(err as Error).message})`));
  return { stream: toEngine, problem: () => walker.problem };
}

function archiveKind(b: Uint8Array): "tar" | "gzip" | "bzip2" | "xz" | undefined {
  if (b[0] === 0x1f && b[1] === 0x8b) return "gzip";
  if (b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68) return "bzip2";
  if (b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a) return "xz";
  if (b.length < 512) return undefined;
  return headerProblem(b.subarray(0, 512)) === undefined ? "tar" : undefined;
}

/** Why a 512-byte block is no tar header (undefined when it is one, or an end-of-archive zero block). */
function headerProblem(h: Uint8Array): string | undefined {
  if (h.every((x) => x === 0)) return undefined;
  const field = Buffer.from(h.subarray(148, 156)).toString("latin1").replace(/[\0 ]+$/, "").trim();
  if (!/^[0-7]{1,7}$/.test(field)) return "a header has no checksum";
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === Number.parseInt(field, 8) ? undefined : "a header's checksum is wrong";
}

function entrySize(h: Uint8Array): number {
  // Base-256 (GNU) for large sizes, else octal.
  if (h[124]! & 0x80) return h.subarray(125, 136).reduce((n, b) => n * 256 + b, 0);
  return Number.parseInt(Buffer.from(h.subarray(124, 136)).toString("latin1").replace(/[\0 ]+$/, "").trim() || "0", 8);
}

/** Follows tar blocks: headers checked, entry data skipped, the end checked. */
class TarWalker {
  problem: string | undefined;
  private block = new Uint8Array(512);
  private filled = 0;
  private skip = 0;
  private done = false;

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && !this.problem && !this.done) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const n = Math.min(512 - this.filled, chunk.length - i);
      this.block.set(chunk.subarray(i, i + n), this.filled);
      this.filled += n;
      i += n;
      if (this.filled < 512) continue;
      this.filled = 0;
      if (this.block.every((x) => x === 0)) {
        this.done = true;
        continue;
      }
      this.problem = headerProblem(this.block);
      const size = entrySize(this.block);
      this.skip = Math.ceil(size / 512) * 512;
    }
  }

  end(): void {
    if (this.problem || this.done) return;
    if (this.skip > 0 || this.filled > 0) this.problem = "it ends in the middle of an entry";
  }

  fail(why: string): void {
    this.problem ??= why;
  }
}
