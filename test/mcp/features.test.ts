import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIST, startServer, type TestServer } from "../harness/index.ts";
import { errorText, httpClient, type McpHarness, stdioClient } from "./mcp-client.ts";

const skip = existsSync(join(DIST, "shed")) ? undefined : "needs dist/shed (make build)";
if (skip) console.log(`MCP features test skipped: ${skip}`);

/**
 * Features as data decide the tool list: a server whose only backend (the test backend
 * `trivial`, test/backends/trivial/) has no snapshots offers no snapshot tools and no
 * fromSnapshot, over both transports; a call to one anyway is an UNSUPPORTED result.
 * (mcp.test.ts shows the same tools offered where docker has them.)
 */
describe.skipIf(Boolean(skip))("MCP tools follow the backends' features (a server without snapshots)", () => {
  let server: TestServer;
  let stdio: McpHarness;
  let http: McpHarness;

  beforeAll(async () => {
    server = await startServer({
      command: [process.execPath, join(import.meta.dirname, "../backends/trivial/shed-server.ts")],
      config: { default_backend: "trivial", enabled_backends: ["trivial"], agent_path: join(DIST, "shed-agent") },
    });
    stdio = await stdioClient(server);
    http = await httpClient(server);
  });
  afterAll(async () => {
    await stdio?.close().catch(() => {});
    await http?.close().catch(() => {});
    await server?.stop();
  });

  it("lists no snapshot tools and no fromSnapshot; calling one says it is not offered", async () => {
    expect((await http.ok("server_info")).backends.find((b: any) => b.name === "trivial").features.snapshots).toBe(false);
    for (const mcp of [stdio, http]) {
      const { tools } = await mcp.client.listTools();
      const names = tools.map((t) => t.name);
      expect(names).toContain("create_shed");
      expect(names.filter((n) => n.includes("snapshot"))).toEqual([]);
      const create = tools.find((t) => t.name === "create_shed")!.inputSchema as any;
      expect(create.properties.fromSnapshot).toBeUndefined();
      // No backend mounts host directories either.
      expect(create.properties.localDir).toBeUndefined();
      expect(create.properties.backend.enum).toEqual(["trivial"]);
      const r = await mcp.call("create_snapshot", { shed: "x", name: "y" });
      expect(r.isError).toBe(true);
      expect(r.structuredContent).toMatchObject({ code: "UNSUPPORTED" });
      expect(errorText(r)).toContain("no backend of this server has snapshots");
    }
  });
});
