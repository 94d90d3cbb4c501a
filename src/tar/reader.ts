import { ShedError } from "../api/errors.ts";
import { TarFormatError, type TarHeader, TarParser } from "./parser.ts";

/**
 * Entries of a tar stream one at a time, each body read as a stream before the next entry:
 * the pull-style face of parser.ts for archives of blobs and small files (image archives).
 * Input is read only as fast as the consumer takes bodies; nothing is written to disk.
 */
export interface TarEntry {
  /** The name as stored, without leading `./`. */
  name: string;
  type: TarHeader["type"];
  size: number;
  linkname: string;
  /** The body; must be consumed (or left alone: the reader then skips it). */
  body(): AsyncIterable<Uint8Array>;
}

type Event = { kind: "entry"; header: TarHeader } | { kind: "data"; chunk: Uint8Array } | { kind: "end" };

export async function* readTar(stream: ReadableStream<Uint8Array>, limits?: { maxMetaBytes?: number }): AsyncGenerator<TarEntry> {
  const events: Event[] = [];
  const parser = new TarParser(
    {
      entry(header) {
        events.push({ kind: "entry", header });
        return (chunk) => events.push({ kind: "data", chunk });
      },
      entryEnd() {
        events.push({ kind: "end" });
      },
    },
    limits,
  );
  const reader = stream.getReader();
  let inputDone = false;
  /** Feeds input until an event is queued; false at the end of the input. */
  const more = async (): Promise<boolean> => {
    while (events.length === 0) {
      if (inputDone) return false;
      const { value, done } = await reader.read();
      try {
        if (done) {
          inputDone = true;
          parser.end();
        } else parser.write(value);
      } catch (err) {
        throw asArchiveError(err);
      }
    }
    return true;
  };
  const next = async (): Promise<Event | undefined> => ((await more()) ? events.shift() : undefined);
  try {
    for (;;) {
      const event = await next();
      if (!event) return;
      if (event.kind !== "entry") continue;
      const { header } = event;
      let done = false;
      let taken = false;
      const body = async function* (): AsyncGenerator<Uint8Array> {
        for (;;) {
          const e = await next();
          if (!e || e.kind === "end") {
            done = true;
            return;
          }
          if (e.kind === "data") yield e.chunk;
        }
      };
      yield {
        name: header.name.replace(/^(\.\/)+/, ""),
        type: header.type,
        size: header.size,
        linkname: header.linkname,
        body: () => {
          if (taken) throw new Error("tar entry body read twice");
          taken = true;
          return body();
        },
      };
      // Whatever the consumer did not read is skipped.
      if (!done) for (let e = await next(); e && e.kind !== "end"; e = await next()) {}
    }
  } finally {
    void reader.cancel().catch(() => {});
  }
}

function asArchiveError(err: unknown): unknown {
  if (!(err instanceof TarFormatError)) return err;
  const entry = err.entry ? ` (entry "${err.entry.slice(0, 200)}")` : "";
  return new ShedError("INVALID_REQUEST", `not a valid tar archive: ${err.reason}${entry}`, { cause: err });
}
