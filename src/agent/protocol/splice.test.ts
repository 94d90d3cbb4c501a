import { describe, expect, it } from "vitest";
import { silentLogger } from "../../log/logger.ts";
import { LocalOps } from "../local-ops.ts";
import type { AgentConnection } from "./api.ts";
import { connectAgent } from "./client.ts";
import type { AgentOps } from "./ops.ts";
import { Activity, serveAgent } from "./service.ts";
import { memoryPair } from "./transports/memory.ts";

/**
 * host -> relay -> agent, as shed-server relays the CLI's WebSocket to a shed: the relay serves
 * the protocol with ops whose byte streams are spliced to its agent connection. The windows
 * differ per hop so bytes wait in the splice for credit.
 */
async function chain(windows: { host?: number; relay?: number; agent?: number } = {}) {
  const activity = new Activity();
  const local = new LocalOps({ version: "t", user: "root", activity, logger: silentLogger, exit: () => {} });
  const [toAgent, agentSide] = memoryPair();
  serveAgent(agentSide, local, { activity, window: windows.agent });
  const upstream = await connectAgent(toAgent, { window: windows.relay });
  const ops: AgentOps = {
    info: () => ({ version: "relay", hostname: "h", uptimeMs: 0, pid: 1 }),
    health: () => upstream.health(),
    // The spliced ops never reach the relay's own handlers.
    exec: () => Promise.reject(new Error("exec was not spliced")),
    putArchive: () => Promise.reject(new Error("put was not spliced")),
    getArchive: () => Promise.reject(new Error("get was not spliced")),
    connectTcp: () => Promise.reject(new Error("tcp was not spliced")),
    listenUnix: (path, opts) => upstream.listenUnix(path, opts),
    acceptUnix: (path) => upstream.acceptUnix(path),
    shutdown: () => upstream.shutdown(0),
    splice: (request, host, onDone) => upstream.splice!(request, host, onDone),
  };
  const [toRelay, relaySide] = memoryPair();
  serveAgent(relaySide, ops, { window: windows.relay });
  const host = await connectAgent(toRelay, { window: windows.host });
  const close = () => {
    host.close();
    upstream.close();
  };
  return { host, upstream, toAgent, close };
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function run(host: AgentConnection, argv: string[], input?: Uint8Array) {
  const proc = await host.exec({ argv, login: false });
  const writer = proc.stdin.getWriter();
  const fed = (async () => {
    if (input) await writer.write(input);
    await writer.close();
  })().catch(() => {});
  const [status, stdout, stderr] = await Promise.all([proc.exit, collect(proc.stdout), collect(proc.stderr)]);
  await fed;
  return { status, stdout, stderr: new TextDecoder().decode(stderr) };
}

describe("splice (a relay passing frames on)", () => {
  it("output, stderr and the exit status arrive whole and in order through hops with different windows", async () => {
    const c = await chain({ host: 64 * 1024, relay: 1024 * 1024, agent: 256 * 1024 });
    try {
      const r = await run(c.host, ["sh", "-c", "head -c 9000000 /dev/zero | tr '\\0' x; echo oops >&2; exit 3"]);
      expect(r.status.code).toBe(3);
      expect(r.stdout.length).toBe(9_000_000);
      expect(r.stdout.every((b) => b === 0x78)).toBe(true);
      expect(r.stderr).toBe("oops\n");
    } finally {
      c.close();
    }
  });

  it("stdin goes up whole (a window smaller towards the agent than from the host)", async () => {
    const c = await chain({ host: 1024 * 1024, relay: 32 * 1024, agent: 16 * 1024 });
    try {
      const input = new Uint8Array(5_000_000).map((_, i) => i % 251);
      const r = await run(c.host, ["cat"], input);
      expect(r.status.code).toBe(0);
      expect(r.stdout.length).toBe(input.length);
      expect(Buffer.compare(r.stdout, input)).toBe(0);
    } finally {
      c.close();
    }
  });

  it("a signal passes stdin that waits for credit (a command that never reads its input)", async () => {
    const c = await chain({ relay: 16 * 1024, agent: 16 * 1024 });
    try {
      const proc = await c.host.exec({ argv: ["sleep", "60"], login: false });
      const writer = proc.stdin.getWriter();
      // More than every window and pipe on the way: the tail waits in the splice.
      void writer.write(new Uint8Array(4 * 1024 * 1024)).catch(() => {});
      proc.signal("SIGTERM");
      const status = await proc.exit;
      expect(status.signal).toBe("SIGTERM");
    } finally {
      c.close();
    }
  });

  it("the agent connection lost mid-exec: the host's exec fails with AGENT_UNAVAILABLE, no hang", async () => {
    const c = await chain();
    try {
      const proc = await c.host.exec({ argv: ["sleep", "60"], login: false });
      c.toAgent.close();
      await expect(proc.exit).rejects.toMatchObject({ code: "AGENT_UNAVAILABLE" });
      // A closed agent connection refuses new streams with the same code.
      await expect(c.host.exec({ argv: ["true"] })).rejects.toMatchObject({ code: "AGENT_UNAVAILABLE" });
    } finally {
      c.close();
    }
  });
});
