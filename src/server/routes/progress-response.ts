import type { Context } from "hono";
import { ShedError, toShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import { encodeEvent } from "../../api/sse.ts";
import { cappedText } from "./body-limit.ts";

const KEEPALIVE_MS = 15_000;

/**
 * Runs a long operation and answers either as SSE (progress events, then the result) when
 * the client accepts text/event-stream, or as one JSON body when it does not.
 */
export async function progressResponse(
  c: Context,
  op: (progress: Progress) => Promise<unknown>,
  successStatus = 200,
  keepaliveMs = KEEPALIVE_MS,
): Promise<Response> {
  if (!(c.req.header("accept") ?? "").includes("text/event-stream")) {
    const result = await op(() => {});
    return result === undefined ? c.body(null, 204) : c.json(result, successStatus as 200);
  }
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          // client went away; the operation still finishes server-side
        }
      };
      // A comment line now and then: a step that prints nothing for minutes (a VM booting
      // under TCG) must not look idle to the client's socket timeout or to a proxy.
      const keepalive = setInterval(() => send(": keepalive\n\n"), keepaliveMs);
      try {
        const result = await op((data) => send(encodeEvent({ event: "progress", data })));
        send(encodeEvent({ event: "result", data: result ?? null }));
      } catch (err) {
        send(encodeEvent({ event: "error", data: toShedError(err).toJSON() }));
      } finally {
        clearInterval(keepalive);
      }
      try {
        controller.close();
      } catch {}
    },
  });
  return new Response(body, {
    status: 200,
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

/** Parses a JSON body (within the body cap); a malformed one is INVALID_REQUEST, an empty one is `{}`. */
export async function jsonBody(c: Context, cap: number): Promise<unknown> {
  const text = await cappedText(c, cap);
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ShedError("INVALID_REQUEST", `request body is not valid JSON: ${(err as Error).message}`);
  }
}
