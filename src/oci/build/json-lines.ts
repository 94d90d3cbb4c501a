/**
 * The Docker engine streams build (and pull) progress as JSON objects, one per line, split
 * across chunks anywhere. Yields each object; a line that is not JSON is yielded as
 * `{ stream: line }` so nothing the builder said is lost.
 */
export async function* jsonLines(body: ReadableStream<Uint8Array>, maxLine = 1 << 20): AsyncGenerator<Record<string, unknown>> {
  const decoder = new TextDecoder();
  let buf = "";
  const parse = (line: string): Record<string, unknown> | undefined => {
    const t = line.trim();
    if (t === "") return undefined;
    try {
      const v = JSON.parse(t) as unknown;
      return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : { stream: t };
    } catch {
      return { stream: t };
    }
  };
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      const obj = parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (obj) yield obj;
      nl = buf.indexOf("\n");
    }
    // A builder that never ends a line must not grow the buffer without bound.
    if (buf.length > maxLine) {
      const obj = parse(buf);
      buf = "";
      if (obj) yield obj;
    }
  }
  const last = parse(buf + decoder.decode());
  if (last) yield last;
}
