/**
 * Writes tar streams (ustar; a PAX header for names or sizes ustar cannot hold). Entries are
 * deterministic (mtime 0, uid/gid 0) so the same image always saves to the same bytes.
 */
export interface TarWriteEntry {
  name: string;
  type: "file" | "dir";
  /** File bytes, in memory or as a stream of exactly `size` bytes. */
  data?: Uint8Array | (() => ReadableStream<Uint8Array>);
  size?: number;
  /** Permission bits (default 0644 for files, 0755 for dirs) and mtime in seconds (default 0). */
  mode?: number;
  mtime?: number;
  /** Owner ids (default 0: deterministic; `shed cp -a` keeps the source's). */
  uid?: number;
  gid?: number;
}

const BLOCK = 512;
const enc = new TextEncoder();

export function tarStream(entries: Iterable<TarWriteEntry> | AsyncIterable<TarWriteEntry>): ReadableStream<Uint8Array> {
  async function* generate(): AsyncGenerator<Uint8Array> {
    for await (const e of entries) {
      const size = e.type === "dir" ? 0 : e.data instanceof Uint8Array ? e.data.byteLength : (e.size ?? 0);
      yield* headerBlocks(e, size);
      if (e.type === "file" && e.data) {
        let written = 0;
        if (e.data instanceof Uint8Array) {
          yield e.data;
          written = e.data.byteLength;
        } else {
          for await (const chunk of e.data()) {
            written += chunk.byteLength;
            if (written > size) throw new Error(`${e.name} grew while it was being archived`);
            yield chunk;
          }
        }
        if (written !== size) throw new Error(`${e.name} is ${written} bytes, expected ${size}`);
        const pad = (BLOCK - (size % BLOCK)) % BLOCK;
        if (pad) yield new Uint8Array(pad);
      }
    }
    yield new Uint8Array(BLOCK * 2);
  }
  const it = generate();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await it.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await it.return(undefined);
    },
  }, { highWaterMark: 4 });
}

function* headerBlocks(e: TarWriteEntry, size: number): Generator<Uint8Array> {
  const { name, type } = e;
  const fullName = type === "dir" && !name.endsWith("/") ? `${name}/` : name;
  const nameBytes = enc.encode(fullName);
  const pax: Record<string, string> = {};
  if (nameBytes.byteLength > 100) pax.path = fullName;
  if (size > 0o77777777777) pax.size = String(size);
  if (Object.keys(pax).length > 0) {
    const body = paxBody(pax);
    yield header("PaxHeader", "x", body.byteLength, 0o644, 0);
    yield body;
    const pad = (BLOCK - (body.byteLength % BLOCK)) % BLOCK;
    if (pad) yield new Uint8Array(pad);
  }
  yield header(
    nameBytes.byteLength > 100 ? fullName.slice(0, 99) : fullName,
    type === "dir" ? "5" : "0",
    size > 0o77777777777 ? 0 : size,
    e.mode ?? (type === "dir" ? 0o755 : 0o644),
    Math.floor(e.mtime ?? 0),
    e.uid ?? 0,
    e.gid ?? 0,
  );
}

function header(name: string, typeflag: string, size: number, mode: number, mtime: number, uid = 0, gid = 0): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const put = (off: number, len: number, s: string) => h.set(enc.encode(s).subarray(0, len), off);
  const octal = (off: number, len: number, n: number) => put(off, len, `${n.toString(8).padStart(len - 1, "0")}\0`);
  put(0, 100, name);
  octal(100, 8, mode);
  octal(108, 8, uid);
  octal(116, 8, gid);
  octal(124, 12, size);
  octal(136, 12, mtime);
  put(148, 8, "        ");
  put(156, 1, typeflag);
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}

function paxBody(attrs: Record<string, string>): Uint8Array {
  let out = "";
  for (const [k, v] of Object.entries(attrs)) {
    const rest = ` ${k}=${v}\n`;
    let len = enc.encode(rest).byteLength + 1;
    while (String(len).length + enc.encode(rest).byteLength !== len) len++;
    out += `${len}${rest}`;
  }
  return enc.encode(out);
}
