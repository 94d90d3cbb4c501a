import { once } from "node:events";
import type { Duplex, Readable, Writable } from "node:stream";
import type { ByteDuplex } from "../agent/protocol/api.ts";

/**
 * Byte pumps between Node streams (sockets, ssh2 channels) and web streams (agent streams),
 * with backpressure both ways: the Node side is paused until the web side took its chunk,
 * and the web side is not read while the Node side's buffer is full.
 */
export async function pumpToNode(src: ReadableStream<Uint8Array>, dst: Writable): Promise<void> {
  try {
    for await (const chunk of src) {
      if (dst.destroyed) break;
      if (!dst.write(chunk)) await Promise.race([once(dst, "drain"), once(dst, "close")]);
    }
  } catch {
    // The stream broke or the Node side went away: the caller's status says the rest.
  }
}

/**
 * A Node readable as a web stream that reads it only as fast as it is consumed. A Node error
 * errors the stream, or ends it where the caller reports failure its own way (`endOnError`).
 */
export function webReadable(src: Readable, opts: { endOnError?: boolean } = {}): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(ctrl) {
      // "end" and "error" may both come; the stream takes the first.
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        if (err && !opts.endOnError) ctrl.error(err);
        else ctrl.close();
      };
      src.on("data", (d: Buffer) => {
        if (done) return;
        ctrl.enqueue(new Uint8Array(d));
        if ((ctrl.desiredSize ?? 1) <= 0) src.pause();
      });
      src.once("end", () => finish());
      src.once("error", (e) => finish(e));
    },
    pull: () => void src.resume(),
    cancel: () => void src.destroy(),
  });
}

export function pumpFromNode(src: Readable, dst: WritableStream<Uint8Array>): void {
  const writer = dst.getWriter();
  src.on("data", (chunk: Buffer) => {
    src.pause();
    writer.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)).then(
      () => src.resume(),
      () => src.destroy(),
    );
  });
  src.once("end", () => void writer.close().catch(() => {}));
}

/** Both ways between a Node duplex (socket, ssh2 channel) and a web byte duplex (agent tcp). */
export async function relayDuplex(node: Duplex, web: ByteDuplex): Promise<void> {
  pumpFromNode(node, web.writable);
  await pumpToNode(web.readable, node);
  if (!node.destroyed) node.end();
}
