import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectAgent } from "../../src/agent/protocol/client.ts";
import golden from "../../src/agent/protocol/fixtures/frames.json" with { type: "json" };
import { dialUnix } from "../../src/agent/protocol/transports/socket.ts";
import { cleanupDocker, ensureTestImage, missing, namePrefix, sh, startServer, type TestServer } from "../harness/index.ts";
import { KNOBS, rng } from "./lib.ts";

const skip = missing({ docker: true });

/**
 * Agent protocol fuzz (issue 14): 100k random and mutated frames against the compiled
 * shed-agent running in a Docker shed (so whatever a mutated request runs, runs confined
 * there), over its own unix socket. It never dies (same process, no container restart) and
 * keeps serving a well-formed client that stays connected all along, and new ones.
 * Mutations that could ask for a shutdown or reach a network are never sent.
 */
const corpus = golden.map((g) => Buffer.from(g.wire, "hex"));
const HELLO = corpus[0]!;
const NEVER = ["shutdown", "tcp", "listen", "accept", "put"].map((w) => Buffer.from(w));

function mutate(r: ReturnType<typeof rng>): Buffer {
  const base = Buffer.from(r.pick(corpus));
  switch (r.int(6)) {
    case 0:
      for (let i = 0; i < 1 + r.int(4); i++) {
        const at = r.int(base.length);
        base[at] = base[at]! ^ (1 << r.int(8));
      }
      return base;
    case 1:
      return base.subarray(0, r.int(base.length));
    case 2:
      base[0] = r.int(256);
      base.writeUInt32BE(r.int(16), 2);
      return base;
    case 3:
      return Buffer.from(Array.from({ length: r.int(64) }, () => r.int(256)));
    case 4:
      base.writeUInt32BE(r.int(2 ** 32), 6);
      return base;
    default:
      return Buffer.concat([base, base.subarray(0, r.int(base.length))]);
  }
}

function safe(frame: Buffer): boolean {
  return !NEVER.some((w) => frame.includes(w));
}

/** One connection: hello, then its frames (the agent may hang up at a fatal one: the rest of that connection is lost). */
function blast(sock: string, frames: Buffer[]): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    const s: Socket = connect(sock, () => {
      s.write(HELLO);
      for (const f of frames) {
        if (s.destroyed) break;
        s.write(f);
        sent++;
      }
      s.end();
    });
    s.on("data", () => {});
    s.on("error", () => {});
    s.on("close", () => resolve(sent));
    s.setTimeout(10_000, () => s.destroy());
  });
}

describe.skipIf(skip)("agent protocol fuzz (compiled shed-agent in a Docker shed)", () => {
  let server: TestServer;
  let sock: string;

  beforeAll(async () => {
    server = await startServer({ config: { docker: { default_image: await ensureTestImage("busybox"), pids_limit: 256 } } });
    await server.shedJson(["create", "fuzzed", "--memory", "512"]);
    sock = join(server.stateDir, "run", "fuzzed", "agent.sock");
  });
  afterAll(async () => {
    await server?.stop();
    cleanupDocker();
  });

  it(`${KNOBS.agentFrames} hostile frames: the agent lives on and keeps serving`, async () => {
    const pidBefore = sh(`docker inspect -f '{{.State.Pid}}' ${namePrefix}fuzzed`).trim();
    const healthy = await connectAgent(await dialUnix(sock));
    const r = rng(KNOBS.seed);
    let sent = 0;
    let connections = 0;
    while (sent < KNOBS.agentFrames) {
      const batch = Array.from({ length: 8 }, () => {
        const frames: Buffer[] = [];
        while (frames.length < 25) {
          const f = mutate(r);
          if (safe(f)) frames.push(f);
        }
        return frames;
      });
      const counts = await Promise.all(batch.map((frames) => blast(sock, frames)));
      sent += counts.reduce((a, b) => a + b, 0);
      connections += batch.length;
    }
    console.log(`agent fuzz: ${sent} frames over ${connections} connections, seed ${KNOBS.seed}`);

    expect((await healthy.health()).ok).toBe(true);
    const p = await healthy.exec({ argv: ["echo", "still here"] });
    await p.stdin.getWriter().close();
    expect(await new Response(p.stdout).text()).toBe("still here\n");
    expect((await p.exit).code).toBe(0);
    healthy.close();
    const fresh = await connectAgent(await dialUnix(sock));
    expect((await fresh.health()).ok).toBe(true);
    fresh.close();
    const after = JSON.parse(sh(`docker inspect ${namePrefix}fuzzed`))[0];
    expect(String(after.State.Pid)).toBe(pidBefore);
    expect(after.RestartCount).toBe(0);
    expect((await server.shed(["exec", "fuzzed", "--", "echo", "through the server"])).stdout).toBe("through the server\n");
  });
});
