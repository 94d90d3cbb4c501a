import type { Context } from "hono";
import { ShedError } from "../../api/errors.ts";

/**
 * Request bodies are capped before they are read: a Content-Length past the cap is 413 at
 * once, and a body without one is counted as it streams in and cut at the cap. JSON bodies
 * get `jsonCap`; image archives and build contexts (binary request bodies) `archiveCap`.
 */
export interface BodyCaps {
  jsonCap: number;
  archiveCap: number;
}

/** 413 now when the request says its body is past the cap. */
export function refuseLongBody(c: Context, cap: number): void {
  const length = c.req.header("content-length");
  if (length !== undefined && Number(length) > cap) throw tooLarge(cap);
}

function tooLarge(cap: number): ShedError {
  return new ShedError("PAYLOAD_TOO_LARGE", `the request body is larger than this server takes (${cap} bytes); send less`);
}

/** The request body as a stream that fails with 413 once it passes the cap. */
export function cappedBody(c: Context, cap: number): ReadableStream<Uint8Array> | null {
  const body = c.req.raw.body;
  if (!body) return null;
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctrl) {
        seen += chunk.byteLength;
        if (seen > cap) ctrl.error(tooLarge(cap));
        else ctrl.enqueue(chunk);
      },
    }),
  );
}

/** Reads the whole (capped) body as text. */
export async function cappedText(c: Context, cap: number): Promise<string> {
  const body = c.req.raw.body;
  if (!body) return "";
  const chunks: Uint8Array[] = [];
  let seen = 0;
  const reader = body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value.byteLength;
    if (seen > cap) {
      await reader.cancel().catch(() => {});
      throw tooLarge(cap);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
