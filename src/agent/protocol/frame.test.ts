import * as v from "valibot";
import { describe, expect, it } from "vitest";
import golden from "./fixtures/frames.json" with { type: "json" };
import { encodeFrame, type Frame, FrameDecoder, FrameError, FrameType, MAX_PAYLOAD, parseJsonPayload, readCredit } from "./frame.ts";
import { AgentControlSchema, ClientHelloSchema, HostControlSchema, OpenRequestSchema, ServerHelloSchema } from "./messages.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const all = Buffer.from(golden.map((g) => g.wire).join(""), "hex");

/** What each golden frame's payload must satisfy: the contract, not just the bytes. */
function schemaFor(g: (typeof golden)[number]): v.GenericSchema | undefined {
  const toAgent = g.direction === "host->agent";
  if (g.type === "HELLO") return toAgent ? ClientHelloSchema : ServerHelloSchema;
  if (g.type === "OPEN") return OpenRequestSchema;
  if (g.type === "CONTROL") return toAgent ? HostControlSchema : AgentControlSchema;
  return undefined;
}

describe("golden frames pin the wire format", () => {
  it.each(golden.map((g) => [g.name, g] as const))("%s: decodes and re-encodes byte-exactly", (_name, g) => {
    const frames = new FrameDecoder().push(Buffer.from(g.wire, "hex"));
    expect(frames).toHaveLength(1);
    const f = frames[0]!;
    expect(f.type).toBe(FrameType[g.type as keyof typeof FrameType]);
    expect(f.flags).toBe(g.flags);
    expect(f.stream).toBe(g.stream);
    if ("json" in g) expect(parseJsonPayload(f.payload)).toEqual(g.json);
    if ("credit" in g) expect(readCredit(f.payload)).toBe(g.credit);
    if ("bytes" in g) expect(hex(f.payload)).toBe(g.bytes);
    const schema = schemaFor(g);
    if (schema) expect(v.safeParse(schema, parseJsonPayload(f.payload)).success).toBe(true);
    expect(hex(encodeFrame(f))).toBe(g.wire);
  });

  it("the header layout: type, flags, big-endian stream id and length", () => {
    const wire = hex(encodeFrame({ type: 0x12, flags: 1, stream: 0x01020304, payload: new Uint8Array([0xaa, 0xbb]) }));
    expect(wire).toBe("1201" + "01020304" + "00000002" + "aabb");
  });

  it("a whole conversation decodes the same however the bytes are chunked", () => {
    const expected = golden.map((g) => g.wire);
    for (const size of [1, 3, 10, 64, 1000, all.length]) {
      const decoder = new FrameDecoder();
      const got: Frame[] = [];
      for (let at = 0; at < all.length; at += size) got.push(...decoder.push(all.subarray(at, at + size)));
      expect(got.map((f) => hex(encodeFrame(f)))).toEqual(expected);
      expect(decoder.buffered).toBe(0);
    }
  });

  it("a truncated frame waits for the rest; an oversize length is refused", () => {
    const decoder = new FrameDecoder();
    const wire = Buffer.from(golden[0]!.wire, "hex");
    expect(decoder.push(wire.subarray(0, wire.length - 1))).toEqual([]);
    expect(decoder.push(wire.subarray(wire.length - 1))).toHaveLength(1);
    const huge = encodeFrame({ type: FrameType.DATA, flags: 0, stream: 1, payload: new Uint8Array(0) });
    new DataView(huge.buffer).setUint32(6, MAX_PAYLOAD + 1);
    expect(() => new FrameDecoder().push(huge)).toThrow(FrameError);
    expect(() => encodeFrame({ type: 1, flags: 0, stream: 0, payload: new Uint8Array(MAX_PAYLOAD + 1) })).toThrow(FrameError);
  });
});

describe("bulk frames", () => {
  it("large DATA frames decode to the same bytes however the stream is cut, and only spanning frames are copied", () => {
    const frames = [1, 65_536, 3, MAX_PAYLOAD, 10, 200_000].map((n, i) => ({
      type: FrameType.DATA,
      flags: 0,
      stream: i + 1,
      payload: Uint8Array.from({ length: n }, (_, j) => (i * 31 + j) & 0xff),
    }));
    const wire = Buffer.concat(frames.map((f) => encodeFrame(f)));
    for (const cut of [7, 4096, 65_547, 300_000, wire.length]) {
      const decoder = new FrameDecoder();
      const got: Frame[] = [];
      for (let at = 0; at < wire.length; at += cut) got.push(...decoder.push(wire.subarray(at, at + cut)));
      expect(got.map((f) => [f.stream, hex(f.payload)])).toEqual(frames.map((f) => [f.stream, hex(f.payload)]));
      expect(decoder.buffered).toBe(0);
    }
    // A frame wholly inside one chunk is a view of it, not a copy; so is a payload that
    // follows its header in the next chunk (a header written alone before a bulk payload).
    const chunk = encodeFrame(frames[1]!);
    expect(new FrameDecoder().push(chunk)[0]!.payload.buffer).toBe(chunk.buffer);
    const split = new FrameDecoder();
    expect(split.push(chunk.slice(0, 10))).toEqual([]);
    const rest = chunk.slice(10);
    const [f] = split.push(rest);
    expect(f!.payload.buffer).toBe(rest.buffer);
    expect(hex(f!.payload)).toBe(hex(frames[1]!.payload));
  });

  it("splitData: a DATA frame spread over chunks comes out in parts, each a view of its chunk; other frames whole", () => {
    const frames: Frame[] = [
      { type: FrameType.CONTROL, flags: 0, stream: 1, payload: new TextEncoder().encode('{"started":{}}') },
      ...[1, 65_536, 0, MAX_PAYLOAD, 10, 200_000].map((n, i) => ({
        type: FrameType.DATA,
        flags: i % 2,
        stream: 1 + (i % 3),
        payload: Uint8Array.from({ length: n }, (_, j) => (i * 31 + j) & 0xff),
      })),
      { type: FrameType.EOF, flags: 1, stream: 2, payload: new Uint8Array(0) },
      { type: FrameType.CONTROL, flags: 0, stream: 1, payload: new TextEncoder().encode('{"exit":{"code":0}}') },
    ];
    const wire = Buffer.concat(frames.map((f) => encodeFrame(f)));
    for (const cut of [1, 7, 9, 10, 11, 4096, 65_547, 300_000, wire.length]) {
      const decoder = new FrameDecoder(MAX_PAYLOAD, { splitData: true });
      const chunks: Uint8Array[] = [];
      const got: Frame[] = [];
      for (let at = 0; at < wire.length; at += cut) {
        const chunk = wire.slice(at, at + cut);
        chunks.push(chunk);
        got.push(...decoder.push(chunk));
      }
      expect(decoder.buffered).toBe(0);
      // No DATA payload is a copy: each is a view of the chunk it came in.
      const copied = got.filter((f) => f.type === FrameType.DATA && f.payload.length > 0 && !chunks.some((c) => c.buffer === f.payload.buffer));
      expect(copied).toEqual([]);
      // Parts of one DATA frame joined back (neighbouring frames differ in stream or channel).
      const joined: [number, number, number, string][] = [];
      for (const f of got) {
        const prev = joined.at(-1);
        if (f.type === FrameType.DATA && prev?.[0] === FrameType.DATA && prev[1] === f.flags && prev[2] === f.stream) prev[3] += hex(f.payload);
        else joined.push([f.type, f.flags, f.stream, hex(f.payload)]);
      }
      expect(joined).toEqual(frames.map((f) => [f.type, f.flags, f.stream, hex(f.payload)]));
    }
  });
});
