import { ShedError } from "../../api/errors.ts";

/**
 * A streaming tar reader (ustar, PAX and GNU long names): entries one at a time, each body
 * read as a stream before the next entry. Enough for image archives, which hold blobs and
 * small JSON files; it never writes anything to disk itself.
 */
export type TarEntryType = "file" | "dir" | "symlink" | "hardlink" | "other";

export interface TarEntry {
  name: string;
  type: TarEntryType;
  size: number;
  linkname: string;
  /** The body; must be consumed (or left alone: the reader then skips it). */
  body(): AsyncIterable<Uint8Array>;
}

const BLOCK = 512;
const PAX_MAX = 1 << 20;

class ByteSource {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private done = false;
  private readonly reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> };
  /** Bytes consumed so far (for error messages). */
  position = 0;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader() as unknown as ByteSource["reader"];
  }

  private async pull(): Promise<boolean> {
    if (this.done) return false;
    const { value, done } = await this.reader.read();
    if (done || !value) {
      this.done = true;
      return false;
    }
    if (value.byteLength > 0) {
      this.chunks.push(value);
      this.buffered += value.byteLength;
    }
    return true;
  }

  /** Exactly n bytes, or fewer at end of stream. */
  async read(n: number): Promise<Uint8Array> {
    while (this.buffered < n && (await this.pull())) {}
    const take = Math.min(n, this.buffered);
    const out = new Uint8Array(take);
    let off = 0;
    while (off < take) {
      const head = this.chunks[0]!;
      const k = Math.min(head.byteLength, take - off);
      out.set(head.subarray(0, k), off);
      off += k;
      this.consumeHead(k);
    }
    return out;
  }

  /** Up to n bytes as they come (no copy when a chunk fits). */
  async *stream(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.pull())) throw truncated(this.position);
      const head = this.chunks[0]!;
      const k = Math.min(head.byteLength, left);
      const piece = head.subarray(0, k);
      this.consumeHead(k);
      left -= k;
      yield piece;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.stream(n)) {
    }
  }

  cancel(): void {
    void this.reader.cancel().catch(() => {});
  }

  private consumeHead(k: number): void {
    const head = this.chunks[0]!;
    if (k === head.byteLength) this.chunks.shift();
    else this.chunks[0] = head.subarray(k);
    this.buffered -= k;
    this.position += k;
  }
}

function truncated(at: number): ShedError {
  return new ShedError("INVALID_REQUEST", `the archive ends in the middle of an entry (at byte ${at}); is the file complete?`);
}

export async function* readTar(stream: ReadableStream<Uint8Array>): AsyncGenerator<TarEntry> {
  const src = new ByteSource(stream);
  let pax: Record<string, string> = {};
  let globalPax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  try {
    for (;;) {
      const header = await src.read(BLOCK);
      if (header.byteLength === 0) return;
      if (header.byteLength < BLOCK) throw truncated(src.position);
      if (header.every((b) => b === 0)) return;
      checkChecksum(header, src.position - BLOCK);
      const typeflag = String.fromCharCode(header[156]!);
      const size = parseNumber(header.subarray(124, 136), src.position);
      const padded = Math.ceil(size / BLOCK) * BLOCK;

      if (typeflag === "x" || typeflag === "g" || typeflag === "L" || typeflag === "K") {
        if (size > PAX_MAX) throw new ShedError("INVALID_REQUEST", `a tar extended header of ${size} bytes is too large`);
        const data = await src.read(padded);
        const text = data.subarray(0, size);
        if (typeflag === "x") pax = { ...pax, ...parsePax(text) };
        else if (typeflag === "g") globalPax = { ...globalPax, ...parsePax(text) };
        else if (typeflag === "L") longName = cString(text);
        else longLink = cString(text);
        continue;
      }

      const attrs = { ...globalPax, ...pax };
      const prefix = cString(header.subarray(345, 500));
      const rawName = cString(header.subarray(0, 100));
      const isUstar = cString(header.subarray(257, 263)).startsWith("ustar");
      let name = attrs.path ?? longName ?? (isUstar && prefix ? `${prefix}/${rawName}` : rawName);
      const linkname = attrs.linkpath ?? longLink ?? cString(header.subarray(157, 257));
      const realSize = attrs.size !== undefined ? Number(attrs.size) : size;
      pax = {};
      longName = longLink = undefined;
      name = name.replace(/^(\.\/)+/, "");

      const type: TarEntryType =
        typeflag === "0" || typeflag === "\0" || typeflag === "7"
          ? "file"
          : typeflag === "5"
            ? "dir"
            : typeflag === "2"
              ? "symlink"
              : typeflag === "1"
                ? "hardlink"
                : "other";
      const bodySize = type === "file" || type === "other" ? realSize : 0;
      const bodyPadded = Math.ceil(bodySize / BLOCK) * BLOCK;
      let consumed = false;
      const entry: TarEntry = {
        name,
        type,
        size: bodySize,
        linkname,
        body: () => {
          if (consumed) throw new Error("tar entry body read twice");
          consumed = true;
          return src.stream(bodySize);
        },
      };
      const before = src.position;
      yield entry;
      // Whatever the consumer did not read is skipped, then the padding.
      const read = src.position - before;
      if (read < bodySize) await src.skip(bodySize - read);
      const pad = bodyPadded - bodySize;
      if (pad > 0) await src.skip(pad);
    }
  } finally {
    src.cancel();
  }
}

function cString(b: Uint8Array): string {
  const nul = b.indexOf(0);
  return new TextDecoder().decode(nul >= 0 ? b.subarray(0, nul) : b);
}

function parseNumber(field: Uint8Array, at: number): number {
  if (field[0]! & 0x80) {
    // base-256 (GNU) for sizes past 8 GiB
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const s = cString(field).trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw new ShedError("INVALID_REQUEST", `not a tar archive (bad size field near byte ${at})`);
  return Number.parseInt(s, 8);
}

function checkChecksum(header: Uint8Array, at: number): void {
  const stored = cString(header.subarray(148, 156)).trim();
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
  if (!/^[0-7]+$/.test(stored) || Number.parseInt(stored, 8) !== sum) {
    throw new ShedError("INVALID_REQUEST", `not a tar archive, or a corrupt one (bad header checksum at byte ${at})`);
  }
}

function parsePax(data: Uint8Array): Record<string, string> {
  // Record lengths count bytes, so parse bytes (names may be UTF-8).
  const out: Record<string, string> = {};
  const dec = new TextDecoder();
  let i = 0;
  while (i < data.byteLength) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number.parseInt(dec.decode(data.subarray(i, sp)), 10);
    if (!Number.isFinite(len) || len <= 0 || i + len > data.byteLength) break;
    const record = dec.decode(data.subarray(sp + 1, i + len - 1));
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}
