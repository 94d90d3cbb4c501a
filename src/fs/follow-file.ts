import { closeSync, openSync, readSync, statSync } from "node:fs";

/**
 * The file's last `lines` lines (none by default, at most its last 256 KiB), then what is
 * appended to it, as one stream (`tail -n N -f`): polled, since the writer (QEMU's console)
 * is another process that may also start the file over (a trimmed log), which starts the
 * reading over too. Ends when its consumer cancels; never ends on its own.
 */
export function followFile(path: string, opts: { lines?: number; pollMs?: number; map?: (text: string) => string } = {}): ReadableStream<Uint8Array> {
  const pollMs = opts.pollMs ?? 250;
  let offset = startOfLastLines(path, opts.lines ?? 0);
  let stopped = false;
  const enc = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (stopped) return;
        const size = sizeOf(path);
        if (size < offset) offset = 0;
        if (size > offset) {
          const chunk = readRange(path, offset, Math.min(size - offset, 1 << 20));
          offset += chunk.byteLength;
          const text = Buffer.from(chunk).toString("utf8");
          controller.enqueue(opts.map ? enc.encode(opts.map(text)) : chunk);
          return;
        }
        await Bun.sleep(pollMs);
      }
    },
    cancel() {
      stopped = true;
    },
  });
}

const BACK_WINDOW = 256 * 1024;

/** Where the last `lines` lines of the file begin (a partial last line counts as one). */
function startOfLastLines(path: string, lines: number): number {
  const size = sizeOf(path);
  if (lines <= 0 || size === 0) return size;
  const from = Math.max(0, size - BACK_WINDOW);
  const tail = readRange(path, from, size - from);
  let at = tail.length;
  if (tail[at - 1] === 0x0a) at--;
  for (let seen = 0; at > 0; at--) {
    if (tail[at - 1] === 0x0a && ++seen === lines) break;
  }
  return from + at;
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readRange(path: string, start: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  const fd = openSync(path, "r");
  try {
    const n = readSync(fd, buf, 0, length, start);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
