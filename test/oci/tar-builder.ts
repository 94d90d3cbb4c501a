import { gzipSync, zstdCompressSync } from "node:zlib";

/**
 * Writes tar archives byte by byte for layer tests, including what no well-behaved tool
 * writes: `..` names, absolute names, PAX overrides, duplicate entries, bad checksums.
 */
export interface TarSpec {
  name: string;
  type?: "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo" | "raw";
  /** Body for files. */
  data?: string | Uint8Array;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string | Uint8Array>;
  /** Extra PAX records (e.g. {path: "../evil"} to override a benign header name). */
  pax?: Record<string, string>;
  /** Use a GNU long-name record for the name. */
  gnuLongName?: boolean;
  /** Type flag byte to write as is (with type "raw"). */
  flag?: string;
}

const TYPE_FLAGS = { file: "0", dir: "5", symlink: "2", hardlink: "1", char: "3", block: "4", fifo: "6", raw: "0" } as const;
const enc = new TextEncoder();

export function tar(entries: TarSpec[], opts: { end?: boolean; corruptChecksumOf?: string } = {}): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const e of entries) {
    const type = e.type ?? (e.name.endsWith("/") ? "dir" : "file");
    const body = typeof e.data === "string" ? enc.encode(e.data) : (e.data ?? new Uint8Array());
    const pax: [string, Uint8Array][] = [];
    for (const [k, v] of Object.entries(e.pax ?? {})) pax.push([k, enc.encode(v)]);
    for (const [k, v] of Object.entries(e.xattrs ?? {})) pax.push([`SCHILY.xattr.${k}`, typeof v === "string" ? enc.encode(v) : v]);
    if (pax.length > 0) {
      const data = paxRecords(pax);
      blocks.push(header({ name: "PaxHeader", size: data.byteLength, flag: "x" }), pad(data));
    }
    let name = e.name;
    if (e.gnuLongName) {
      const data = enc.encode(`${e.name}\0`);
      blocks.push(header({ name: "././@LongLink", size: data.byteLength, flag: "L" }), pad(data));
      name = e.name.slice(0, 99);
    }
    const h = header({
      name,
      size: type === "file" || type === "raw" ? body.byteLength : 0,
      flag: e.flag ?? TYPE_FLAGS[type],
      mode: e.mode ?? (type === "dir" ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? 1_600_000_000,
      linkname: e.linkname ?? "",
      devmajor: e.devmajor ?? 0,
      devminor: e.devminor ?? 0,
    });
    if (opts.corruptChecksumOf === e.name) h[148] = "9".charCodeAt(0);
    blocks.push(h);
    if (type === "file" || type === "raw") blocks.push(pad(body));
  }
  if (opts.end !== false) blocks.push(new Uint8Array(1024));
  return Buffer.concat(blocks);
}

export const gzip = (b: Uint8Array) => new Uint8Array(gzipSync(b));
export const zstd = (b: Uint8Array) => new Uint8Array(zstdCompressSync(b));

function paxRecords(records: [string, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [k, v] of records) {
    const rest = 1 + Buffer.byteLength(k) + 1 + v.byteLength + 1; // " k=v\n"
    let len = rest + String(rest).length;
    if (String(len).length !== String(rest).length) len = rest + String(len).length;
    parts.push(enc.encode(`${len} ${k}=`), v, enc.encode("\n"));
  }
  return Buffer.concat(parts);
}

function pad(b: Uint8Array): Uint8Array {
  const n = Math.ceil(b.byteLength / 512) * 512;
  const out = new Uint8Array(n);
  out.set(b);
  return out;
}

function header(f: {
  name: string;
  size: number;
  flag: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}): Uint8Array {
  const h = new Uint8Array(512);
  const str = (off: number, len: number, s: string) => h.set(enc.encode(s).subarray(0, len), off);
  const oct = (off: number, len: number, n: number) => str(off, len, `${n.toString(8).padStart(len - 1, "0")}\0`);
  str(0, 100, f.name);
  oct(100, 8, f.mode ?? 0o644);
  oct(108, 8, f.uid ?? 0);
  oct(116, 8, f.gid ?? 0);
  oct(124, 12, f.size);
  oct(136, 12, f.mtime ?? 0);
  str(156, 1, f.flag);
  str(157, 100, f.linkname ?? "");
  str(257, 6, "ustar\0");
  str(263, 2, "00");
  oct(329, 8, f.devmajor ?? 0);
  oct(337, 8, f.devminor ?? 0);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  str(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}

/** A layer for flattenLayers from bytes (digest is a label here, not checked). */
export function layer(digest: string, bytes: Uint8Array) {
  return {
    digest,
    size: bytes.byteLength,
    open: () =>
      new ReadableStream<Uint8Array>({
        start(c) {
          // Odd-sized chunks: headers and bodies straddle chunk boundaries.
          for (let i = 0; i < bytes.byteLength; i += 777) c.enqueue(bytes.slice(i, i + 777));
          c.close();
        },
      }),
  };
}
