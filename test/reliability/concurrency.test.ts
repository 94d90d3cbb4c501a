import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openShedAgent } from "../../src/api/agent-client.ts";
import { ApiClient } from "../../src/api/client.ts";
import { cleanupDocker, ensureTestImage, missing, namePrefix, sh, startServer, type TestServer } from "../harness/index.ts";

const skip = missing({ docker: true });

/**
 * Concurrency (issue 14): 5 creates of one name (exactly one wins; the others are
 * SHED_EXISTS while the winner is still being made), 20 creates at once, 50 execs at once,
 * each over its own WebSocket to the agent (the way `shed exec` goes).
 */
describe.skipIf(skip)("concurrency on Docker", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ config: { docker: { default_image: await ensureTestImage("busybox") } } });
  });
  afterAll(async () => {
    await server?.stop();
    cleanupDocker();
  });

  const create = (name: string) =>
    fetch(`${server.url}/api/sheds`, { method: "POST", body: JSON.stringify({ name }) }).then(async (res) => ({ status: res.status, body: (await res.json()) as { code?: string; state?: string } }));

  it("5 creates of the same name: one wins, the others are SHED_EXISTS before it is done", async () => {
    const order: string[] = [];
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        create("same").then((r) => {
          order.push(r.status === 201 || r.status === 200 ? "won" : (r.body.code ?? String(r.status)));
          return r;
        }),
      ),
    );
    expect(results.filter((r) => r.body.state === "running")).toHaveLength(1);
    expect(results.filter((r) => r.body.code === "SHED_EXISTS")).toHaveLength(4);
    // Promptly: every loser had its answer while the winner was still being created.
    expect(order).toEqual(["SHED_EXISTS", "SHED_EXISTS", "SHED_EXISTS", "SHED_EXISTS", "won"]);
    expect(sh(`docker ps -q --filter name=^${namePrefix}same$`).trim()).not.toBe("");
  });

  it("50 execs at once in one shed, each with its own connection: every output and exit code right", async () => {
    const endpoint = { name: "test", host: "127.0.0.1", httpPort: server.port, sshPort: server.sshPort };
    const runs = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const conn = await openShedAgent(new ApiClient(endpoint), "same");
        try {
          const p = await conn.exec({ argv: ["sh", "-c", `echo out-${i}; echo err-${i} >&2; exit ${i % 7}`] });
          await p.stdin.getWriter().close();
          const [stdout, stderr, exit] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exit]);
          return { i, stdout, stderr, code: exit.code };
        } finally {
          conn.close();
        }
      }),
    );
    for (const r of runs) expect(r).toEqual({ i: r.i, stdout: `out-${r.i}\n`, stderr: `err-${r.i}\n`, code: r.i % 7 });
    await server.shedJson(["delete", "same", "--force"]);
  });

  it("20 creates at once: all running, all listed, all deleted at once", async () => {
    const names = Array.from({ length: 20 }, (_, i) => `many-${i}`);
    const created = await Promise.all(names.map(create));
    expect(created.map((r) => r.body.state)).toEqual(names.map(() => "running"));
    const listed = (await server.shedJson(["list"])).sheds.map((s: { name: string; state: string }) => `${s.name}:${s.state}`).sort();
    expect(listed).toEqual(names.map((n) => `${n}:running`).sort());
    const deleted = await Promise.all(names.map((n) => fetch(`${server.url}/api/sheds/${n}?force=true`, { method: "DELETE" }).then((r) => r.status)));
    expect(deleted).toEqual(names.map(() => 204));
    expect((await server.shedJson(["list"])).sheds).toEqual([]);
    expect(sh(`docker ps -aq --filter name=^${namePrefix}many-`).trim()).toBe("");
  });
});
