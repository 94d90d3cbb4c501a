import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Transport } from "../transport.ts";
import { dialUnix, listenUnix } from "./socket.ts";

describe("SocketTransport", () => {
  it("hands each read over as its own buffer: chunks kept by the receiver are never overwritten", async () => {
    const dir = mkdtempSync(join(tmpdir(), "shed-socket-"));
    const path = join(dir, "s.sock");
    const total = 16 * 1024 * 1024;
    const piece = 256 * 1024;
    const kept: Uint8Array[] = [];
    let received = 0;
    const done = Promise.withResolvers<void>();
    const listener = listenUnix(path, (t: Transport) =>
      t.start({
        data: (chunk) => {
          kept.push(chunk);
          received += chunk.length;
          if (received >= total) done.resolve();
        },
        end: () => done.resolve(),
      }),
    );
    const client = await dialUnix(path);
    client.start({ data: () => {}, end: () => {} });
    try {
      // Piece i is filled with i: a reused read buffer would show a later piece's value.
      for (let i = 0; i < total / piece; i++) {
        if (!client.write(new Uint8Array(piece).fill(i & 0xff))) await client.drained();
      }
      await done.promise;
      expect(received).toBe(total);
      let at = 0;
      let wrong = 0;
      for (const chunk of kept) {
        for (let i = 0; i < chunk.length; i += 4096) if (chunk[i] !== (Math.floor((at + i) / piece) & 0xff)) wrong++;
        at += chunk.length;
      }
      expect(wrong).toBe(0);
    } finally {
      client.close();
      listener.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
