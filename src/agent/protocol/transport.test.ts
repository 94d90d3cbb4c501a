import { describe, expect, it } from "vitest";
import { WriteQueue } from "./transport.ts";

describe("WriteQueue", () => {
  it("joins small writes into one sink call but hands a large payload over as it is (no copy)", async () => {
    const seen: Uint8Array[] = [];
    const q = new WriteQueue((chunk) => {
      seen.push(chunk);
      return chunk.length;
    });
    const header = new Uint8Array(10).fill(1);
    const big = new Uint8Array(200_000).fill(2);
    q.push(new Uint8Array(5).fill(3));
    q.push(header);
    q.push(big);
    await Promise.resolve();
    expect(seen.map((c) => c.length)).toEqual([15, 200_000]);
    expect(seen[1]).toBe(big);
  });

  it("a partial write blocks until resume and keeps the order", () => {
    const seen: number[][] = [];
    let room = 3;
    const q = new WriteQueue((chunk) => {
      const n = Math.min(room, chunk.length);
      seen.push([...chunk.subarray(0, n)]);
      room -= n;
      return n;
    });
    q.push(Uint8Array.of(1, 2, 3, 4, 5));
    q.flush();
    expect(seen.flat()).toEqual([1, 2, 3]);
    room = 10;
    q.resume();
    expect(seen.flat()).toEqual([1, 2, 3, 4, 5]);
    expect(q.pending).toBe(0);
  });
});
