import { describe, expect, it } from "vitest";
import { silentLogger } from "../../log/logger.ts";
import { LocalOps } from "../local-ops.ts";
import { connectAgent } from "./client.ts";
import golden from "./fixtures/frames.json" with { type: "json" };
import { Activity, serveAgent } from "./service.ts";
import { memoryPair } from "./transports/memory.ts";

/** Deterministic, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const HELLO = Buffer.from(golden[0]!.wire, "hex");
const corpus = golden.map((g) => Buffer.from(g.wire, "hex"));

function mutate(rand: () => number): Uint8Array {
  const base = Buffer.from(corpus[Math.floor(rand() * corpus.length)]!);
  switch (Math.floor(rand() * 5)) {
    case 0: // flip bytes anywhere, header included
      for (let i = 0; i < 1 + rand() * 4; i++) {
        const at = Math.floor(rand() * base.length);
        base[at] = base[at]! ^ (1 << Math.floor(rand() * 8));
      }
      return base;
    case 1: // truncate
      return base.subarray(0, Math.floor(rand() * base.length));
    case 2: // random type and stream
      base[0] = Math.floor(rand() * 256);
      base.writeUInt32BE(Math.floor(rand() * 16), 2);
      return base;
    case 3: // pure noise
      return Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
    default: // a huge length
      base.writeUInt32BE(Math.floor(rand() * 2 ** 32), 6);
      return base;
  }
}

describe("the agent survives hostile input", () => {
  it("500 random and mutated inputs never crash it, and it keeps serving", async () => {
    const activity = new Activity();
    const local = new LocalOps({ version: "fuzz", user: "root", activity, logger: silentLogger, exit: () => {} });
    // Mutated OPENs may form real requests: only harmless programs may run.
    const ops = Object.assign(Object.create(local), {
      exec: (req: { argv?: string[] }) => {
        if (!req.argv || !["printf", "true", "cat"].includes(req.argv[0]!)) throw new Error("not in the fuzz allowlist");
        return local.exec({ ...req, argv: req.argv });
      },
      putArchive: async () => {
        throw new Error("no files in the fuzz test");
      },
      connectTcp: async () => {
        throw new Error("no tcp in the fuzz test");
      },
      listenUnix: async () => {
        throw new Error("no unix sockets in the fuzz test");
      },
      acceptUnix: async () => {
        throw new Error("no unix sockets in the fuzz test");
      },
      shutdown: async () => {},
    });
    const rand = rng(20261124);
    // One long-lived healthy connection beside the fuzzed ones.
    const [h1, a1] = memoryPair();
    serveAgent(a1, ops, { activity });
    const healthy = await connectAgent(h1);

    for (let round = 0; round < 50; round++) {
      const [host, agent] = memoryPair();
      const mux = serveAgent(agent, ops, { activity, logger: silentLogger });
      host.start({ data: () => {}, end: () => {} });
      host.write(HELLO);
      for (let i = 0; i < 10; i++) host.write(mutate(rand));
      await Bun.sleep(5);
      host.close();
      await mux.closed;
    }
    expect((await healthy.health()).ok).toBe(true);
    const p = await healthy.exec({ argv: ["printf", "still here"] });
    expect(await new Response(p.stdout).text()).toBe("still here");
    expect((await p.exit).code).toBe(0);
    healthy.close();
  });
});

describe("bad frames cost only themselves", () => {
  it("an unknown type, an unknown stream and a bad OPEN get ERROR frames; the connection lives on", async () => {
    const { FrameDecoder, FrameType, encodeFrame, jsonPayload, parseJsonPayload } = await import("./frame.ts");
    const activity = new Activity();
    const ops = new LocalOps({ version: "t", user: "root", activity, logger: silentLogger, exit: () => {} });
    const [host, agent] = memoryPair();
    serveAgent(agent, ops, { activity });
    const decoder = new FrameDecoder();
    const got: { type: number; stream: number; body: Record<string, unknown> }[] = [];
    host.start({
      data: (c) => {
        for (const f of decoder.push(c)) got.push({ type: f.type, stream: f.stream, body: f.payload.length && f.payload[0] === 0x7b ? parseJsonPayload(f.payload) : {} });
      },
      end: () => {},
    });
    const send = (type: number, stream: number, body?: unknown) =>
      host.write(encodeFrame({ type, flags: 0, stream, payload: body === undefined ? new Uint8Array(0) : jsonPayload(body) }));
    send(FrameType.HELLO, 0, { min: 1, max: 1 });
    send(0x7f, 0);
    send(FrameType.DATA, 99, {});
    send(FrameType.OPEN, 1, { op: "exec", argv: ["true"], command: "true" });
    send(FrameType.OPEN, 2, { op: "nope" });
    send(FrameType.OPEN, 3, { op: "health" });
    await Bun.sleep(100);
    const errors = got.filter((f) => f.type === FrameType.ERROR);
    expect(errors.map((e) => [e.stream, e.body.code]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [0, "PROTOCOL_ERROR"],
      [1, "INVALID_REQUEST"],
      [2, "INVALID_REQUEST"],
      [99, "PROTOCOL_ERROR"],
    ]);
    const health = got.find((f) => f.type === FrameType.CONTROL && f.stream === 3);
    expect(health?.body.result).toMatchObject({ ok: true });
    host.close();
  });
});
