import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { connectAgent } from "../../src/agent/protocol/client.ts";
import { Activity, serveAgent } from "../../src/agent/protocol/service.ts";
import { NodeStreamTransport } from "../../src/agent/protocol/transports/node-stream.ts";
import { SerialTransport } from "../../src/agent/protocol/transports/serial.ts";
import { dialUnix } from "../../src/agent/protocol/transports/socket.ts";
import { LocalOps } from "../../src/agent/local-ops.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { DIST, sh } from "../harness/index.ts";
import { fakeFirecrackerVsock } from "../harness/firecracker-vsock.ts";
import { dialHybridVsock } from "../../src/agent/protocol/transports/hybrid-vsock.ts";
import { protocolSuite } from "./protocol-suite.ts";

const agentBin = join(DIST, "shed-agent");
const noAgent = existsSync(agentBin) ? undefined : `skipped: ${agentBin} is not built (make build)`;
if (noAgent) console.warn(noAgent);

/** The compiled agent on a unix socket, as the Docker backend runs it. */
protocolSuite("a unix socket (compiled shed-agent)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "shed-unix-"));
  const sock = join(dir, "agent.sock");
  const proc = spawn(agentBin, ["serve", "--listen", `unix:${sock}`], { stdio: "ignore" });
  for (let i = 0; i < 200 && !existsSync(sock); i++) await Bun.sleep(25);
  return {
    connect: async () => connectAgent(await dialUnix(sock)),
    cleanup: () => {
      proc.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}, noAgent);

/** The compiled agent on its stdin/stdout. */
protocolSuite("stdio (compiled shed-agent)", async () => {
  const proc = spawn(agentBin, ["serve", "--listen", "stdio"], { stdio: ["pipe", "pipe", "ignore"] });
  return {
    connect: () => connectAgent(new NodeStreamTransport(proc.stdout!, proc.stdin!, "stdio")),
    cleanup: () => {
      proc.kill("SIGKILL");
    },
  };
}, noAgent);

/** The compiled agent behind Firecracker's hybrid vsock front (a stand-in: Firecracker cannot run here). */
protocolSuite("hybrid vsock (compiled shed-agent behind a Firecracker vsock front)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "shed-hvsock-"));
  const sock = join(dir, "agent.sock");
  const proc = spawn(agentBin, ["serve", "--listen", `unix:${sock}`], { stdio: "ignore" });
  for (let i = 0; i < 200 && !existsSync(sock); i++) await Bun.sleep(25);
  const front = await fakeFirecrackerVsock(join(dir, "v.sock"), sock, 1024);
  return {
    connect: async () => connectAgent(await dialHybridVsock(join(dir, "v.sock"), 1024)),
    cleanup: () => {
      front.stop();
      proc.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}, noAgent);

/**
 * A serial port is one byte stream each way with no connection semantics: two FIFOs stand
 * in for the virtio-serial device (the agent opens its ends as it opens /dev/vport*).
 */
protocolSuite("a serial link (FIFO pair)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "shed-serial-"));
  const toAgent = join(dir, "to-agent");
  const toHost = join(dir, "to-host");
  sh(`mkfifo ${toAgent} ${toHost}`);
  const activity = new Activity();
  const ops = new LocalOps({ version: "0.0.0-test", user: "shed", activity, logger: silentLogger, exit: () => {} });
  // Both sides open their FIFOs concurrently (an open of a FIFO waits for its peer).
  const agentSide = new SerialTransport(toAgent, toHost);
  const mux = serveAgent(agentSide, ops, { activity, resyncOnGarbage: true });
  const hostSide = new SerialTransport(toHost, toAgent);
  return {
    connect: () => connectAgent(hostSide, { serial: true }),
    cleanup: () => {
      mux.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe("a serial link after line noise", () => {
  it("the agent skips the garbage, drops the old session and answers the next HELLO", async () => {
    const dir = mkdtempSync(join(tmpdir(), "shed-serial-"));
    const toAgent = join(dir, "to-agent");
    const toHost = join(dir, "to-host");
    sh(`mkfifo ${toAgent} ${toHost}`);
    const activity = new Activity();
    const ops = new LocalOps({ version: "0.0.0-test", user: "root", activity, logger: silentLogger, exit: () => {} });
    const mux = serveAgent(new SerialTransport(toAgent, toHost), ops, { activity, resyncOnGarbage: true });
    try {
      const first = await connectAgent(new SerialTransport(toHost, toAgent), { serial: true });
      expect((await first.health()).ok).toBe(true);
      first.close();
      // A header announcing 4 GiB: unreadable, so the agent resynchronises.
      const noise = new SerialTransport(toHost, toAgent);
      noise.write(new Uint8Array([0x12, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
      await noise.drained();
      noise.close();
      const second = await connectAgent(new SerialTransport(toHost, toAgent), { serial: true });
      const p = await second.exec({ argv: ["echo", "after noise"] });
      expect(await new Response(p.stdout).text()).toBe("after noise\n");
      second.close();
    } finally {
      mux.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
