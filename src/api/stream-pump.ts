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
