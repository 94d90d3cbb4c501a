import { describe, expect, it } from "vitest";
import { pushStream } from "./push-stream.ts";

describe("pushStream", () => {
  it("delivers pushed chunks, then the end", async () => {
    const s = pushStream();
    s.push(new TextEncoder().encode("a"));
    s.push(new TextEncoder().encode("b"));
    s.end();
    s.end();
    expect(await new Response(s.readable).text()).toBe("ab");
  });

  it("after its consumer cancels, pushes, ends and failures are no-ops (a raw controller throws)", async () => {
    let cancelled = 0;
    const s = pushStream({ cancel: () => cancelled++ });
    await s.readable.cancel();
    expect(cancelled).toBe(1);
    expect(() => {
      s.push(new Uint8Array(3));
      s.end();
      s.fail(new Error("late"));
    }).not.toThrow();
    // What the guard is for: the same calls on a bare controller after cancel.
    let raw!: ReadableStreamDefaultController<Uint8Array>;
    const bare = new ReadableStream<Uint8Array>({ start: (c) => (raw = c) });
    await bare.cancel();
    expect(() => raw.enqueue(new Uint8Array(1))).toThrow(/closed/i);
  });
});
