import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenStore } from "../../src/server/auth/tokens.ts";
import { missing, startServer, TEST_TLS, type TestServer } from "../harness/index.ts";
import { httpClient } from "./mcp-client.ts";

const skip = missing({ docker: true });

/** /api/mcp is behind the server's own auth: token mode refuses it without the token. */
describe.skipIf(skip)("/api/mcp in auth token mode", () => {
  let server: TestServer;
  let token = "";
  beforeAll(async () => {
    server = await startServer({ config: { auth: { mode: "token" } } });
    // Minted into the store the server reads (what the SSH bootstrap does; test/server/remote-tls.test.ts covers that path).
    token = new TokenStore(server.stateDir).mint(3600, "mcp").token;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("is 401 without the token or with a wrong one", async () => {
    const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } };
    for (const headers of [{}, { authorization: "Bearer wrong-token-wrong-token" }] as Record<string, string>[]) {
      const r = await fetch(`${server.url}/api/mcp`, {
        tls: TEST_TLS,
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
        body: JSON.stringify(init),
      });
      expect(r.status).toBe(401);
      expect(((await r.json()) as { code: string }).code).toBe("UNAUTHORIZED");
    }
    await expect(httpClient(server)).rejects.toThrow();
  });

  it("works with the token, and its tools reach the API over HTTPS with the server's own internal token", async () => {
    const mcp = await httpClient(server, token);
    try {
      expect((await mcp.client.listTools()).tools.length).toBeGreaterThan(10);
      expect(await mcp.ok("list_sheds")).toEqual({ sheds: [] });
      expect((await mcp.ok("server_info")).auth).toBe("token");
    } finally {
      await mcp.close();
    }
  });
});
