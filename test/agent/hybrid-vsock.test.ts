import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectAgent } from "../../src/agent/protocol/client.ts";
import { dialHybridVsock } from "../../src/agent/protocol/transports/hybrid-vsock.ts";
import { sockaddrVm } from "../../src/agent/protocol/transports/vsock.ts";
import { DIST } from "../harness/index.ts";

/**
 * Firecracker's hybrid vsock, faked at its boundary: a unix socket that wants exactly
 * `CONNECT <port>\n`, answers `OK <host port>\n` and then carries the guest's bytes (here,
 * a real compiled shed-agent on another unix socket). Firecracker itself cannot run here.
 */
function fakeFirecrackerVsock(path: string, agentSock: string, guestPort: number) {
  const seen: string[] = [];
  const server = Bun.listen<{ line: string; upstream?: Awaited<ReturnType<typeof Bun.connect>> }>({
    unix: path,
    socket: {
      open: (s) => {
        s.data = { line: "" };
      },
      data: async (s, chunk) => {
        if (s.data.upstream) return void s.data.upstream.write(chunk);
        s.data.line += chunk.toString();
        const nl = s.data.line.indexOf("\n");
        if (nl < 0) return;
        const line = s.data.line.slice(0, nl);
        seen.push(line);
        if (line !== `CONNECT ${guestPort}`) return void s.end();
        s.data.upstream = await Bun.connect({
          unix: agentSock,
          socket: { data: (_u, d) => void s.write(d), close: () => void s.end() },
        });
        s.write("OK 1073741824\n");
      },
      close: (s) => {
        s.data.upstream?.end();
      },
    },
  });
  return { seen, stop: () => server.stop(true) };
}

describe("hybrid vsock (Firecracker's unix socket front)", () => {
  const dir = mkdtempSync(join(tmpdir(), "shed-hvsock-"));
  const agentSock = join(dir, "agent.sock");
  const vsockPath = join(dir, "v.sock");
  let agent: ReturnType<typeof spawn>;
  let fake: ReturnType<typeof fakeFirecrackerVsock>;

  beforeAll(async () => {
    agent = spawn(join(DIST, "shed-agent"), ["serve", "--listen", `unix:${agentSock}`], { stdio: "ignore" });
    for (let i = 0; i < 200 && !existsSync(agentSock); i++) await Bun.sleep(25);
    fake = fakeFirecrackerVsock(vsockPath, agentSock, 1024);
  });
  afterAll(() => {
    fake?.stop();
    agent?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends CONNECT <port>, takes OK, then speaks the protocol", async () => {
    const conn = await connectAgent(await dialHybridVsock(vsockPath, 1024));
    const p = await conn.exec({ argv: ["echo", "via vsock"] });
    expect(await new Response(p.stdout).text()).toBe("via vsock\n");
    conn.close();
    expect(fake.seen).toContain("CONNECT 1024");
  });

  it("a refused port is a clear AGENT_UNAVAILABLE", async () => {
    await expect(dialHybridVsock(vsockPath, 9, 3000)).rejects.toMatchObject({ code: "AGENT_UNAVAILABLE" });
  });

  it("encodes struct sockaddr_vm as the kernel reads it", () => {
    expect(Buffer.from(sockaddrVm(1024)).toString("hex")).toBe("2800" + "0000" + "00040000" + "ffffffff" + "00000000");
  });
});
