import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectAgent } from "../../src/agent/protocol/client.ts";
import { dialHybridVsock } from "../../src/agent/protocol/transports/hybrid-vsock.ts";
import { sockaddrVm } from "../../src/agent/protocol/transports/vsock.ts";
import { fakeFirecrackerVsock } from "../harness/firecracker-vsock.ts";
import { DIST } from "../harness/index.ts";

describe("hybrid vsock (Firecracker's unix socket front)", () => {
  const dir = mkdtempSync(join(tmpdir(), "shed-hvsock-"));
  const agentSock = join(dir, "agent.sock");
  const vsockPath = join(dir, "v.sock");
  let agent: ReturnType<typeof spawn>;
  let fake: Awaited<ReturnType<typeof fakeFirecrackerVsock>>;

  beforeAll(async () => {
    agent = spawn(join(DIST, "shed-agent"), ["serve", "--listen", `unix:${agentSock}`], { stdio: "ignore" });
    for (let i = 0; i < 200 && !existsSync(agentSock); i++) await Bun.sleep(25);
    fake = await fakeFirecrackerVsock(vsockPath, agentSock, 1024);
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
