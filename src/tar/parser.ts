/**
 * The one tar parser of shed, push-style: ustar, GNU (long names, base-256 numbers) and PAX
 * (including binary `SCHILY.xattr.*` and `LIBARCHIVE.xattr.*` records). Image layers
 * (src/oci/rootfs) feed it directly; reader.ts wraps it for archives read entry by entry.
 *
 * Why not node-tar: its parser drops PAX xattr records (file capabilities such as ping's
 * `security.capability` would be lost) and decodes PAX values as text, which corrupts binary
 * ones; and its Unpack decides on its own how to treat symlinks, hardlinks and existing
 * files. Layer extraction needs every header field exactly and makes every filesystem
 * decision itself (safe-tree.ts), so the parser only parses. It is synchronous per chunk:
 * the caller feeds bytes and gets callbacks, with no promise per entry.
 */

export type TarEntryType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";

export interface TarHeader {
  /** The name as stored (PAX path, GNU long name or ustar prefix/name), not yet checked. */
  name: string;
  /** Symlink target or hardlink target name. */
  linkname: string;
  type: TarEntryType;
  /** Permission bits including setuid, setgid and sticky (& 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Body size (0 for everything but regular files). */
  size: number;
  /** Seconds since the epoch, fractional when PAX gave it so. */
  mtime: number;
  atime: number | undefined;
  devmajor: number;
  devminor: number;
  /** Extended attributes by full name (`security.capability`), raw bytes. */
  xattrs: Map<string, Uint8Array>;
  /** Offset of the entry's header in the uncompressed stream (for error messages). */
  offset: number;
}

/** A malformed archive; `entry` is the name of the entry being read, when known. */
export class TarFormatError extends Error {
  constructor(
    readonly reason: string,
    readonly entry?: string,
  ) {
    super(reason);
  }
}

export interface TarHandler {
  /** A new entry; returns the consumer of its body (regular files) or undefined to skip it. */
  entry(header: TarHeader): ((chunk: Uint8Array) => void) | undefined;
  /** The entry's body has been delivered completely. */
  entryEnd(header: TarHeader): void;
}

export interface TarLimits {
  /** Largest PAX extended header or GNU long name accepted. */
  maxMetaBytes: number;
  /** Most entries accepted in one archive. */
  maxEntries: number;
}

const BLOCK = 512;
const DEFAULT_LIMITS: TarLimits = { maxMetaBytes: 1 << 20, maxEntries: 10_000_000 };
const utf8 = new TextDecoder("utf-8", { fatal: true });

type State = "header" | "meta" | "body" | "padding" | "end";

export class TarParser {
  private state: State = "header";
  private readonly headerBuf = new Uint8Array(BLOCK);
  private headerFill = 0;
  /** Bytes left in the current body (or meta record, or padding). */
  private left = 0;
  private padAfter = 0;
  private metaType = "";
  private metaChunks: Uint8Array[] = [];
  private metaFill = 0;
  private pax = new Map<string, Uint8Array>();
  private readonly globalPax = new Map<string, Uint8Array>();
  private longName: string | undefined;
  private longLink: string | undefined;
  private current: TarHeader | undefined;
  private consume: ((chunk: Uint8Array) => void) | undefined;
  private entries = 0;
  /** Uncompressed bytes seen so far. */
  position = 0;
  private readonly limits: TarLimits;

  constructor(
    private readonly handler: TarHandler,
    limits: Partial<TarLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Feeds the next bytes of the archive; handler callbacks run before this returns. */
  write(chunk: Uint8Array): void {
    let off = 0;
    const len = chunk.byteLength;
    while (off < len) {
      if (this.state === "end") {
        // Anything after the end-of-archive marker (more zero blocks, padding) is ignored.
        this.position += len - off;
        return;
      }
      if (this.state === "header") {
        const take = Math.min(BLOCK - this.headerFill, len - off);
        this.headerBuf.set(chunk.subarray(off, off + take), this.headerFill);
        this.headerFill += take;
        off += take;
        this.position += take;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.onHeader(this.position - BLOCK);
        }
        continue;
      }
      const take = Math.min(this.left, len - off);
      const piece = chunk.subarray(off, off + take);
      off += take;
      this.position += take;
      this.left -= take;
      if (this.state === "body") {
        if (take > 0) this.consume?.(piece);
        if (this.left === 0) this.finishBody();
      } else if (this.state === "meta") {
        if (take > 0) {
          this.metaChunks.push(piece.slice());
          this.metaFill += take;
        }
        if (this.left === 0) this.finishMeta();
      } else if (this.left === 0) {
        this.state = "header";
      }
    }
  }

  /** The input ended: throws unless it ended on an entry boundary. */
  end(): void {
    if (this.state === "end") return;
    if (this.state === "header" && this.headerFill === 0 && !this.current && this.metaType === "") return;
    throw new TarFormatError(`the archive ends in the middle of an entry (at byte ${this.position}); it is truncated or not a tar`, this.current?.name);
  }

  private onHeader(offset: number): void {
    const h = this.headerBuf;
    if (isZero(h)) {
      this.state = "end";
      return;
    }
    try {
      checkChecksum(h, offset);
    } catch (err) {
      throw err instanceof TarFormatError ? new TarFormatError(err.reason, rawHeaderName(h)) : err;
    }
    const flag = h[156] === 0 ? "0" : String.fromCharCode(h[156]!);
    const size = readNumber(h, 124, 12, "size", offset);
    if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
      if (size > this.limits.maxMetaBytes) {
        throw new TarFormatError(`an extended header of ${size} bytes at byte ${offset} is larger than the ${this.limits.maxMetaBytes} allowed`);
      }
      this.metaType = flag;
      this.metaChunks = [];
      this.metaFill = 0;
      this.left = size;
      this.padAfter = pad(size);
      this.state = "meta";
      if (size === 0) this.finishMeta();
      return;
    }
    if (++this.entries > this.limits.maxEntries) {
      throw new TarFormatError(`more than ${this.limits.maxEntries} entries in one archive`);
    }
    const header = this.buildHeader(h, flag, size, offset);
    this.current = header;
    this.consume = this.handler.entry(header);
    this.left = header.size;
    this.padAfter = header.type === "file" ? pad(header.size) : 0;
    this.state = "body";
    if (this.left === 0) this.finishBody();
  }

  private buildHeader(h: Uint8Array, flag: string, size: number, offset: number): TarHeader {
    const attrs = new Map([...this.globalPax, ...this.pax]);
    this.pax = new Map();
    const magic = String.fromCharCode(...h.subarray(257, 263));
    const rawName = cString(h, 0, 100, offset);
    const prefix = magic === "ustar\0" ? cString(h, 345, 155, offset) : "";
    let name = this.longName ?? (prefix ? `${prefix}/${rawName}` : rawName);
    let linkname = this.longLink ?? cString(h, 157, 100, offset);
    this.longName = this.longLink = undefined;
    const text = (k: string) => {
      const v = attrs.get(k);
      if (v === undefined) return undefined;
      try {
        return utf8.decode(v);
      } catch {
        throw new TarFormatError(`the PAX ${k} record is not valid UTF-8`, name);
      }
    };
    const num = (k: string) => {
      const v = text(k);
      if (v === undefined) return undefined;
      if (!/^-?\d+(\.\d+)?$/.test(v)) throw new TarFormatError(`the PAX ${k} record "${v.slice(0, 40)}" is not a number`, name);
      return Number(v);
    };
    name = text("path") ?? name;
    linkname = text("linkpath") ?? linkname;
    for (const k of attrs.keys()) {
      if (k.startsWith("GNU.sparse.")) throw new TarFormatError("sparse files are not supported", name);
    }
    const type = entryType(flag, name);
    const xattrs = new Map<string, Uint8Array>();
    for (const [k, v] of attrs) {
      if (k.startsWith("SCHILY.xattr.")) xattrs.set(k.slice("SCHILY.xattr.".length), v);
      else if (k.startsWith("LIBARCHIVE.xattr.")) {
        const xname = decodeURIComponent(k.slice("LIBARCHIVE.xattr.".length));
        xattrs.set(xname, Buffer.from(new TextDecoder().decode(v), "base64"));
      }
    }
    const mtime = num("mtime") ?? readNumber(h, 136, 12, "mtime", offset);
    const uid = num("uid") ?? readNumber(h, 108, 8, "uid", offset);
    const gid = num("gid") ?? readNumber(h, 116, 8, "gid", offset);
    const bodySize = type === "file" ? (num("size") ?? size) : 0;
    for (const [what, v] of [
      ["uid", uid],
      ["gid", gid],
      ["size", bodySize],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 0 || (what !== "size" && v > 0xffffffff)) {
        throw new TarFormatError(`the ${what} ${v} is out of range`, name);
      }
    }
    return {
      name,
      linkname,
      type,
      mode: readNumber(h, 100, 8, "mode", offset) & 0o7777,
      uid,
      gid,
      size: bodySize,
      mtime,
      atime: num("atime"),
      devmajor: type === "char" || type === "block" ? readNumber(h, 329, 8, "devmajor", offset) : 0,
      devminor: type === "char" || type === "block" ? readNumber(h, 337, 8, "devminor", offset) : 0,
      xattrs,
      offset,
    };
  }

  private finishBody(): void {
    const header = this.current!;
    this.current = undefined;
    this.consume = undefined;
    this.handler.entryEnd(header);
    this.left = this.padAfter;
    this.state = this.left > 0 ? "padding" : "header";
  }

  private finishMeta(): void {
    const data = Buffer.concat(this.metaChunks, this.metaFill);
    const kind = this.metaType;
    this.metaType = "";
    this.metaChunks = [];
    if (kind === "x") for (const [k, v] of parsePax(data)) this.pax.set(k, v);
    else if (kind === "g") for (const [k, v] of parsePax(data)) this.globalPax.set(k, v);
    else {
      const nul = data.indexOf(0);
      let s: string;
      try {
        s = utf8.decode(nul >= 0 ? data.subarray(0, nul) : data);
      } catch {
        throw new TarFormatError("a GNU long name is not valid UTF-8");
      }
      if (kind === "L") this.longName = s;
      else this.longLink = s;
    }
    this.left = this.padAfter;
    this.state = this.left > 0 ? "padding" : "header";
  }
}

function entryType(flag: string, name: string): TarEntryType {
  switch (flag) {
    case "0":
    case "7": // contiguous file: a regular file everywhere that matters
      return "file";
    case "1":
      return "hardlink";
    case "2":
      return "symlink";
    case "3":
      return "char";
    case "4":
      return "block";
    case "5":
      return "dir";
    case "6":
      return "fifo";
    case "S":
      throw new TarFormatError("GNU sparse files are not supported", name);
    default:
      throw new TarFormatError(`unknown tar entry type '${flag.replace(/[^\x20-\x7e]/g, "?")}'`, name);
  }
}

/** PAX records `<len> <key>=<value>\n`; values stay bytes (xattrs are binary). */
export function parsePax(data: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let i = 0;
  while (i < data.byteLength) {
    if (data[i] === 0) break; // NUL padding some writers leave after the last record
    const sp = data.indexOf(0x20, i);
    const len = sp > i ? Number(String.fromCharCode(...data.subarray(i, sp))) : Number.NaN;
    if (!Number.isSafeInteger(len) || len <= sp - i + 1 || i + len > data.byteLength || data[i + len - 1] !== 0x0a) {
      throw new TarFormatError(`malformed PAX record at offset ${i} of an extended header`);
    }
    const record = data.subarray(sp + 1, i + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw new TarFormatError(`malformed PAX record at offset ${i} of an extended header (no key)`);
    let key: string;
    try {
      key = utf8.decode(record.subarray(0, eq));
    } catch {
      throw new TarFormatError("a PAX record key is not valid UTF-8");
    }
    out.set(key, record.subarray(eq + 1));
    i += len;
  }
  return out;
}

function pad(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

function cString(h: Uint8Array, start: number, len: number, offset: number): string {
  const field = h.subarray(start, start + len);
  const nul = field.indexOf(0);
  try {
    return utf8.decode(nul >= 0 ? field.subarray(0, nul) : field);
  } catch {
    throw new TarFormatError(`a name in the header at byte ${offset} is not valid UTF-8 (not supported)`);
  }
}

/** Octal ASCII, or GNU base-256 when the top bit of the first byte is set. */
function readNumber(h: Uint8Array, start: number, len: number, what: string, offset: number): number {
  if (h[start]! & 0x80) {
    if (h[start] === 0xff) throw new TarFormatError(`negative ${what} in the header at byte ${offset}`);
    let n = h[start]! & 0x7f;
    for (let i = start + 1; i < start + len; i++) n = n * 256 + h[i]!;
    if (!Number.isSafeInteger(n)) throw new TarFormatError(`${what} out of range in the header at byte ${offset}`);
    return n;
  }
  let n = 0;
  let i = start;
  const end = start + len;
  while (i < end && h[i] === 0x20) i++;
  let digits = 0;
  for (; i < end; i++) {
    const c = h[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) throw new TarFormatError(`bad ${what} field in the header at byte ${offset}: not a tar archive?`);
    n = n * 8 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? 0 : n;
}

/** The name field of a header that failed its checks, decoded leniently (for the error only). */
function rawHeaderName(h: Uint8Array): string {
  const nul = h.subarray(0, 100).indexOf(0);
  return new TextDecoder().decode(h.subarray(0, nul >= 0 ? nul : 100));
}

function checkChecksum(h: Uint8Array, offset: number): void {
  const stored = readNumber(h, 148, 8, "checksum", offset);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (stored !== unsigned && stored !== signed) {
    throw new TarFormatError(`bad header checksum at byte ${offset}: the archive is corrupt or not a tar`);
  }
}
