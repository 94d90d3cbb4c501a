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
 */
export class FrameDecoder {
  private buf: Uint8Array = new Uint8Array(0);
  private resyncing = false;

  constructor(private readonly maxPayload = MAX_PAYLOAD) {}

  /** Appends bytes and returns every complete frame. Throws FrameError on an oversize length. */
  push(chunk: Uint8Array): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : concat(this.buf, chunk);
    const frames: Frame[] = [];
    let at = 0;
    const buf = this.buf;
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
      const length = ((buf[at + 6]! << 24) >>> 0) + (buf[at + 7]! << 16) + (buf[at + 8]! << 8) + buf[at + 9]!;
      if (length > this.maxPayload) {
        this.buf = buf.subarray(at + 1);
        throw new FrameError(`frame length ${length} exceeds the maximum of ${this.maxPayload}`);
      }
      if (buf.length - at < HEADER_SIZE + length) break;
      const stream = ((buf[at + 2]! << 24) >>> 0) + (buf[at + 3]! << 16) + (buf[at + 4]! << 8) + buf[at + 5]!;
      frames.push({
        type: buf[at]!,
        flags: buf[at + 1]!,
        stream,
        payload: buf.subarray(at + HEADER_SIZE, at + HEADER_SIZE + length),
      });
      at += HEADER_SIZE + length;
    }
    // Copy the remainder so a large consumed chunk is not kept alive by a small tail.
    this.buf = at >= buf.length ? new Uint8Array(0) : at === 0 ? buf : buf.slice(at);
    return frames;
  }

  /** Skip input until something that looks like a HELLO frame (serial links after garbage). */
  resync(): void {
    this.resyncing = true;
  }

  get buffered(): number {
    return this.buf.length;
  }
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

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
