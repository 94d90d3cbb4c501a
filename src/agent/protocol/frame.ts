/**
 * The wire format of the agent protocol: every frame is a 10-byte header and a payload.
 *
 *   0  u8   type
 *   1  u8   flags   (DATA/EOF/WINDOW: bits 0-1 are the channel; other bits reserved, 0)
 *   2  u32  stream  (big-endian; 0 is the connection itself)
 *   6  u32  length  (big-endian; payload bytes, at most MAX_PAYLOAD)
 *  10  payload: JSON (HELLO, ERROR, OPEN, CONTROL), raw bytes (DATA, PING, PONG),
 *      u32 credit (WINDOW), empty (EOF, CLOSE)
 *
 * Pinned by the golden frames in fixtures/frames.json.
 */

export const HEADER_SIZE = 10;
/** Largest payload a peer may send; anything bigger is a broken or hostile stream. */
export const MAX_PAYLOAD = 256 * 1024;

export const FrameType = {
  /** Stream 0. Host -> agent: version range; agent -> host: chosen version and agent info. */
  HELLO: 0x01,
  /** JSON {code, message}. On stream 0: the connection is failing; on stream n: stream n is reset. */
  ERROR: 0x02,
  /** Stream 0; the peer echoes the payload in a PONG (liveness). */
  PING: 0x03,
  PONG: 0x04,
  /** Host -> agent: starts stream n (ids increase) with a JSON request {op, ...}. */
  OPEN: 0x10,
  /** JSON messages within a stream: started/exit/result (agent), resize/signal (host). */
  CONTROL: 0x11,
  /** Bytes of a channel: 0 = stdin / stdout / body, 1 = stderr. */
  DATA: 0x12,
  /** The sender will send no more DATA on this channel. */
  EOF: 0x13,
  /** The receiver consumed bytes: the sender may send this many more on the channel. */
  WINDOW: 0x14,
  /** The sender is done with the stream (agent: finished; host: abandons it). */
  CLOSE: 0x15,
} as const;

export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

const TYPE_NAMES = new Map<number, string>(Object.entries(FrameType).map(([k, v]) => [v, k]));

export function frameTypeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `0x${type.toString(16).padStart(2, "0")}`;
}

export function isKnownType(type: number): type is FrameTypeCode {
  return TYPE_NAMES.has(type);
}

export const CHANNEL_MASK = 0x03;
export const Channel = { MAIN: 0, STDERR: 1 } as const;

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Uint8Array;
}

export class FrameError extends Error {
  override readonly name = "FrameError";
}

export function encodeHeader(type: number, flags: number, stream: number, length: number): Uint8Array {
  const header = new Uint8Array(HEADER_SIZE);
  writeHeader(header, 0, type, flags, stream, length);
  return header;
}

function writeHeader(buf: Uint8Array, at: number, type: number, flags: number, stream: number, length: number): void {
  buf[at] = type;
  buf[at + 1] = flags;
  buf[at + 2] = stream >>> 24;
  buf[at + 3] = (stream >>> 16) & 0xff;
  buf[at + 4] = (stream >>> 8) & 0xff;
  buf[at + 5] = stream & 0xff;
  buf[at + 6] = length >>> 24;
  buf[at + 7] = (length >>> 16) & 0xff;
  buf[at + 8] = (length >>> 8) & 0xff;
  buf[at + 9] = length & 0xff;
}

/** One frame as one buffer (header + payload). */
export function encodeFrame(frame: Frame): Uint8Array {
  const { type, flags, stream, payload } = frame;
  if (payload.length > MAX_PAYLOAD) throw new FrameError(`payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  if (!Number.isInteger(stream) || stream < 0 || stream > 0xffffffff) throw new FrameError(`bad stream id ${stream}`);
  const out = new Uint8Array(HEADER_SIZE + payload.length);
  writeHeader(out, 0, type, flags, stream, payload.length);
  out.set(payload, HEADER_SIZE);
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function jsonPayload(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Parses a JSON payload; FrameError when it is not UTF-8 JSON of an object. */
export function parseJsonPayload(payload: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(payload));
  } catch (err) {
    throw new FrameError(`payload is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new FrameError("payload is not a JSON object");
  }
  return value as Record<string, unknown>;
}

export function creditPayload(n: number): Uint8Array {
  const p = new Uint8Array(4);
  new DataView(p.buffer).setUint32(0, n);
  return p;
}

export function readCredit(payload: Uint8Array): number {
  if (payload.length !== 4) throw new FrameError(`WINDOW payload must be 4 bytes, got ${payload.length}`);
  return new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0);
}

/**
 * Turns a byte stream, chunked any way, into frames. A length over the maximum is fatal (a
 * byte stream cannot be resynchronised from the middle of a frame) except in `resync` mode,
 * used on serial links: there the decoder skips bytes until a plausible HELLO header.
 *
 * Bulk data is what this is fast for: a frame inside one chunk is a view of it (no copy), and
 * a frame spread over chunks is copied once, when its last byte arrives, never re-joined on
 * every chunk (which cost a copy and a fresh, page-faulted buffer per chunk). With `splitData`
 * a DATA frame spread over chunks is not joined at all: each chunk's part of its payload comes
 * out as a DATA frame of its own (same flags and stream), a view of that chunk. Readers of DATA
 * see a byte stream, so this changes nothing for them but the copy.
 */
export class FrameDecoder {
  /** Bytes of an incomplete frame, as they came. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Size of the pending frame once its header is in `pending`. */
  private pendingTotal = 0;
  private resyncing = false;
  /** splitData: payload bytes of the DATA frame being split that are still to come, its flags and stream. */
  private dataLeft = 0;
  private dataFlags = 0;
  private dataStream = 0;

  constructor(
    private readonly maxPayload = MAX_PAYLOAD,
    private readonly opts: { splitData?: boolean } = {},
  ) {}

  /** Appends bytes and returns every complete frame. Throws FrameError on an oversize length. */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    if (this.dataLeft > 0) {
      chunk = this.dataPart(chunk, 0, frames);
      if (chunk.length === 0) return frames;
    }
    if (this.pendingBytes > 0 && this.splitsHere(chunk)) {
      // A DATA header spread over chunks (it is all that is pending): join its 10 bytes only.
      const need = HEADER_SIZE - this.pendingBytes;
      this.keep(chunk.subarray(0, need));
      const header = this.takePending();
      const length = readLength(header, 0);
      if (length > this.maxPayload) throw new FrameError(`frame length ${length} exceeds the maximum of ${this.maxPayload}`);
      this.startData(header, 0, length);
      if (length === 0) frames.push(frameAt(header, 0, 0));
      chunk = this.dataPart(chunk.subarray(need), 0, frames);
    }
    if (this.pendingBytes > 0) {
      const total = this.resyncing ? -1 : this.pendingFrameSize(chunk);
      if (total > 0 && total <= HEADER_SIZE + this.maxPayload) {
        if (this.pendingBytes + chunk.length < total) {
          this.keep(chunk);
          return frames;
        }
        const need = total - this.pendingBytes;
        if (this.pendingBytes === HEADER_SIZE) {
          // Only the header was pending (it came alone, as a writer sends it before a bulk
          // payload): the payload is a view of this chunk, nothing is joined.
          const header = this.takePending();
          frames.push({ ...frameAt(header, 0, 0), payload: chunk.subarray(0, need) });
        } else {
          // The frame's last bytes are here: join it once, then read the rest of the chunk as it is.
          this.keep(chunk.subarray(0, need));
          frames.push(frameAt(this.takePending(), 0, total - HEADER_SIZE));
        }
        chunk = chunk.subarray(need);
      } else {
        // A header still incomplete, an oversize length or resync: small and rare, join it all.
        this.keep(chunk);
        chunk = this.takePending();
      }
    }
    this.scan(chunk, frames);
    return frames;
  }

  private scan(buf: Uint8Array, frames: Frame[]): void {
    let at = 0;
    for (;;) {
      if (this.resyncing) {
        const found = findHello(buf, at);
        if (found < 0) {
          // Keep a possible header prefix at the tail.
          at = Math.max(at, buf.length - (HEADER_SIZE - 1));
          break;
        }
        at = found;
        this.resyncing = false;
      }
      if (buf.length - at < HEADER_SIZE) break;
      const length = readLength(buf, at);
      if (length > this.maxPayload) {
        this.keep(buf.subarray(at + 1));
        throw new FrameError(`frame length ${length} exceeds the maximum of ${this.maxPayload}`);
      }
      if (buf.length - at < HEADER_SIZE + length) {
        if (!this.opts.splitData || buf[at] !== FrameType.DATA) break;
        // The rest of this chunk is the start of a DATA frame: out it goes, the rest follows.
        this.startData(buf, at, length);
        this.dataPart(buf, at + HEADER_SIZE, frames);
        return;
      }
      frames.push(frameAt(buf, at, length));
      at += HEADER_SIZE + length;
    }
    if (at < buf.length) this.keep(buf.subarray(at));
  }

  /** Whether the pending bytes are a DATA header that `next` completes (splitData). */
  private splitsHere(next: Uint8Array): boolean {
    if (!this.opts.splitData || this.resyncing || this.pendingBytes >= HEADER_SIZE) return false;
    return this.pending[0]![0] === FrameType.DATA && this.pendingBytes + next.length >= HEADER_SIZE;
  }

  private startData(header: Uint8Array, at: number, length: number): void {
    const f = frameAt(header, at, 0);
    this.dataLeft = length;
    this.dataFlags = f.flags;
    this.dataStream = f.stream;
  }

  /** Emits the part of the split DATA frame that `buf` holds from `at`; returns what follows it. */
  private dataPart(buf: Uint8Array, at: number, frames: Frame[]): Uint8Array {
    const n = Math.min(this.dataLeft, buf.length - at);
    if (n > 0) {
      frames.push({ type: FrameType.DATA, flags: this.dataFlags, stream: this.dataStream, payload: buf.subarray(at, at + n) });
      this.dataLeft -= n;
    }
    return buf.subarray(at + n);
  }

  /** Header + payload size of the pending frame, or -1 while its header is incomplete. */
  private pendingFrameSize(next: Uint8Array): number {
    if (this.pendingTotal > 0) return this.pendingTotal;
    if (this.pendingBytes + next.length < HEADER_SIZE) return -1;
    const header = new Uint8Array(HEADER_SIZE);
    let n = 0;
    for (const part of [...this.pending, next]) {
      const take = Math.min(part.length, HEADER_SIZE - n);
      header.set(part.subarray(0, take), n);
      n += take;
      if (n === HEADER_SIZE) break;
    }
    // Known from now on: a frame arriving in many small pieces (serial) is not re-read per piece.
    if (this.pendingBytes >= HEADER_SIZE) this.pendingTotal = HEADER_SIZE + readLength(header, 0);
    return HEADER_SIZE + readLength(header, 0);
  }

  private keep(part: Uint8Array): void {
    if (part.length === 0) return;
    this.pending.push(part);
    this.pendingBytes += part.length;
  }

  private takePending(): Uint8Array {
    const parts = this.pending;
    const whole = parts.length === 1 ? parts[0]! : concat(parts, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingTotal = 0;
    return whole;
  }

  /** Skip input until something that looks like a HELLO frame (serial links after garbage). */
  resync(): void {
    this.resyncing = true;
  }

  get buffered(): number {
    return this.pendingBytes;
  }
}

function readLength(buf: Uint8Array, at: number): number {
  return ((buf[at + 6]! << 24) >>> 0) + (buf[at + 7]! << 16) + (buf[at + 8]! << 8) + buf[at + 9]!;
}

function frameAt(buf: Uint8Array, at: number, length: number): Frame {
  return {
    type: buf[at]!,
    flags: buf[at + 1]!,
    stream: ((buf[at + 2]! << 24) >>> 0) + (buf[at + 3]! << 16) + (buf[at + 4]! << 8) + buf[at + 5]!,
    payload: buf.subarray(at + HEADER_SIZE, at + HEADER_SIZE + length),
  };
}

/**
 * A buffer for bytes about to be copied in: not zero-filled first (a fresh zeroed 256 KiB
 * costs a memset and a page fault per page on top of the copy).
 */
export function uninitialized(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

export function concat(parts: Uint8Array[], total = parts.reduce((n, p) => n + p.length, 0)): Uint8Array {
  const out = uninitialized(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Offset of a HELLO header (type 1, flags 0, stream 0, small length, JSON object next) or -1. */
function findHello(buf: Uint8Array, from: number): number {
  for (let i = from; i + HEADER_SIZE <= buf.length; i++) {
    if (buf[i] !== FrameType.HELLO || buf[i + 1] !== 0) continue;
    if (buf[i + 2] || buf[i + 3] || buf[i + 4] || buf[i + 5] || buf[i + 6] || buf[i + 7]) continue;
    const length = (buf[i + 8]! << 8) + buf[i + 9]!;
    if (length < 2) continue;
    if (i + HEADER_SIZE < buf.length && buf[i + HEADER_SIZE] !== 0x7b) continue;
    return i;
  }
  return -1;
}
