import { describe, expect, it } from "vitest";
import { InboundChannel } from "./flow.ts";

describe("InboundChannel", () => {
  it("a read waiting when the stream is cancelled ends quietly when the peer then ends or sends", async () => {
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    process.on("unhandledRejection", onError);
    process.on("uncaughtException", onError);
    try {
      for (const then of ["end", "push", "fail"] as const) {
        const ch = new InboundChannel(1024, () => {});
        const reader = ch.readable.getReader();
        const read = reader.read();
        await Bun.sleep(5);
        await reader.cancel();
        expect((await read).done).toBe(true);
        if (then === "end") ch.end();
        else if (then === "push") expect(ch.push(new Uint8Array(10))).toBe(true);
        else ch.fail(new Error("gone"));
        await Bun.sleep(20);
      }
      expect(errors).toEqual([]);
    } finally {
      process.off("unhandledRejection", onError);
      process.off("uncaughtException", onError);
    }
  });

  it("delivers what was queued, then the end", async () => {
    const ch = new InboundChannel(1024, () => {});
    ch.push(new TextEncoder().encode("ab"));
    ch.push(new TextEncoder().encode("c"));
    ch.end();
    expect(await new Response(ch.readable).text()).toBe("abc");
  });
});
