import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { readEventStream } from "../../api/sse.ts";
import { progressResponse } from "./progress-response.ts";

/** A quiet step must still send bytes: Bun's fetch (and proxies) give up on an idle socket. */
describe("progressResponse", () => {
  const app = new Hono().post("/op", (c) =>
    progressResponse(
      c,
      async (progress) => {
        progress({ id: "vm", status: "booting" });
        await Bun.sleep(120);
        return { done: true };
      },
      200,
      20,
    ),
  );
  const call = () => app.request("/op", { method: "POST", headers: { accept: "text/event-stream" } });

  it("sends keepalive comments while the operation is quiet", async () => {
    const text = await (await call()).text();
    expect(text.match(/^: keepalive$/gm)?.length ?? 0).toBeGreaterThan(1);
    expect(text.indexOf("event: result")).toBeGreaterThan(text.lastIndexOf(": keepalive"));
  });

  it("which the client's reader skips: it sees the progress and the result only", async () => {
    const seen: unknown[] = [];
    const res = await call();
    expect(await readEventStream(res.body!, (e) => seen.push(e))).toEqual({ done: true });
    expect(seen).toEqual([{ id: "vm", status: "booting" }]);
  });
});
