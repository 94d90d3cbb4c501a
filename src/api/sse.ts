import { type ErrorBody, isErrorCode, ShedError } from "./errors.ts";
import type { ProgressEvent } from "./schemas/shed.ts";

/**
 * Long operations stream Server-Sent Events: any number of `progress` events, then exactly
 * one `result` (the operation's JSON body) or `error` ({code, message}).
 */
export type StreamEvent =
  | { event: "progress"; data: ProgressEvent }
  | { event: "result"; data: unknown }
  | { event: "error"; data: ErrorBody };

export function encodeEvent(e: StreamEvent): string {
  return `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`;
}

/** Parses an SSE body; calls onProgress for progress events and returns the result's data. */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  onProgress: (e: ProgressEvent) => void,
): Promise<unknown> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
      const parsed = parseBlock(block);
      if (!parsed) continue;
      if (parsed.event === "progress") onProgress(parsed.data as ProgressEvent);
      else if (parsed.event === "result") return parsed.data;
      else if (parsed.event === "error") {
        const err = parsed.data as Partial<ErrorBody>;
        throw new ShedError(isErrorCode(err.code) ? err.code : "INTERNAL", err.message ?? "unknown error");
      }
    }
  }
  throw new ShedError("PROTOCOL_ERROR", "the server closed the event stream before the operation finished");
}

function parseBlock(block: string): { event: string; data: unknown } | undefined {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
  }
  if (data.length === 0) return undefined;
  return { event, data: JSON.parse(data.join("\n")) };
}
