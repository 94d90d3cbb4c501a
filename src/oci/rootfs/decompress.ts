import { Readable } from "node:stream";
import zlib from "node:zlib";

export type Compression = "none" | "gzip" | "zstd";

/** What the first bytes say; the media type can be wrong (uncompressed layers typed as gzip exist). */
export function sniffCompression(head: Uint8Array): Compression {
  if (head.byteLength >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.byteLength >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

export class LimitExceeded extends Error {}

/**
 * A layer blob's tar bytes: decompressed by what its magic says, counted, and cut off with
 * LimitExceeded past `maxBytes` (a decompression bomb then costs a bounded amount of disk).
 * `onCompressed` sees how many blob bytes have been read (for progress).
 */
export async function* layerTarBytes(
  blob: ReadableStream<Uint8Array>,
  opts: { maxBytes: number; onCompressed?: (bytes: number) => void },
): AsyncGenerator<Uint8Array> {
  const reader = blob.getReader();
  let head: Uint8Array[] = [];
  let headLen = 0;
  let ended = false;
  while (headLen < 4) {
    const { value, done } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    head.push(value);
    headLen += value.byteLength;
  }
  const first = Buffer.concat(head, headLen);
  head = [];
  const compression = sniffCompression(first);
  let read = 0;
  async function* compressed(): AsyncGenerator<Uint8Array> {
    read += first.byteLength;
    opts.onCompressed?.(read);
    if (first.byteLength > 0) yield first;
    while (!ended) {
      const { value, done } = await reader.read();
      if (done) break;
      read += value.byteLength;
      opts.onCompressed?.(read);
      yield value;
    }
  }
  let out = 0;
  const count = (chunk: Uint8Array) => {
    out += chunk.byteLength;
    if (out > opts.maxBytes) throw new LimitExceeded(`the layer decompresses to more than ${opts.maxBytes} bytes`);
    return chunk;
  };
  try {
    if (compression === "none") {
      for await (const chunk of compressed()) yield count(chunk);
      return;
    }
    const inflate =
      compression === "gzip" ? zlib.createGunzip({ chunkSize: 256 << 10 }) : zlib.createZstdDecompress({ chunkSize: 256 << 10 });
    const source = Readable.from(compressed(), { objectMode: false });
    source.on("error", (err) => inflate.destroy(err));
    source.pipe(inflate);
    try {
      for await (const chunk of inflate as AsyncIterable<Buffer>) yield count(chunk);
    } finally {
      source.destroy();
      inflate.destroy();
    }
  } finally {
    void reader.cancel().catch(() => {});
  }
}
