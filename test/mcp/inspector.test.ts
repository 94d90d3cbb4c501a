import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIST, missing, startServer, type TestServer } from "../harness/index.ts";

const INSPECTOR = resolve(import.meta.dirname, "../../node_modules/.bin/mcp-inspector");
const noInspector = !existsSync(INSPECTOR);
if (noInspector) console.log(`skipped: the MCP Inspector is not installed (${INSPECTOR}); make deps installs it from package.json`);
const skip = noInspector || missing({ docker: true });

/** The MCP Inspector's CLI mode (the reference client) lists the tools of `shed mcp`. */
describe.skipIf(skip)("MCP Inspector --cli against shed mcp", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("lists shed's tools and calls one", async () => {
    const run = async (...args: string[]) => {
      const p = Bun.spawn([INSPECTOR, "--cli", "-e", `SHED_CONFIG_DIR=${server.configDir}`, join(DIST, "shed"), "mcp", ...args], { stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      if (code !== 0) throw new Error(`inspector exited ${code}: ${err}`);
      return JSON.parse(out);
    };
    const listed = await run("--method", "tools/list");
    const names = listed.tools.map((t: { name: string }) => t.name);
    expect(names).toEqual(expect.arrayContaining(["list_sheds", "create_shed", "exec", "delete_shed", "read_file"]));
    const called = await run("--method", "tools/call", "--tool-name", "list_sheds");
    expect(called.structuredContent).toEqual({ sheds: [] });
  });
});
