import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { DIST, TEST_TLS, type TestServer } from "../harness/index.ts";

/** The SDK's own Client, connected to `shed mcp` (stdio) or to the server's /api/mcp (Streamable HTTP). */
export interface McpHarness {
  client: Client;
  /** A tool call; the result as the SDK gives it. */
  call(name: string, args?: Record<string, unknown>, opts?: { signal?: AbortSignal; onprogress?: (p: { progress: number; message?: string }) => void }): Promise<CallToolResult>;
  /** A tool call that must succeed: its structured result. */
  ok<T = any>(name: string, args?: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

/** Long operations (a create) report progress; the SDK's 60 s default would cut them. */
const LONG = { timeout: 600_000, resetTimeoutOnProgress: true };

function harness(client: Client): McpHarness {
  const call: McpHarness["call"] = async (name, args = {}, opts = {}) =>
    (await client.callTool({ name, arguments: args }, undefined, { ...LONG, ...opts })) as CallToolResult;
  return {
    client,
    call,
    async ok(name, args) {
      const r = await call(name, args);
      if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
      return r.structuredContent as never;
    },
    close: () => client.close(),
  };
}

export async function stdioClient(server: TestServer, env: Record<string, string> = {}): Promise<McpHarness> {
  const transport = new StdioClientTransport({
    command: join(DIST, "shed"),
    args: ["mcp"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", SHED_CONFIG_DIR: server.configDir, ...env },
    stderr: "pipe",
  });
  const client = new Client({ name: "shed-test", version: "1" });
  await client.connect(transport);
  return harness(client);
}

/** `clientCert`: auth.mode mtls, the certificate (and key, PEM) the server's CA signed for this client. */
export async function httpClient(server: TestServer, token?: string, clientCert?: { cert: string; key: string }): Promise<McpHarness> {
  const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/api/mcp`), {
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
    // HTTPS in token and mtls mode: the test server's self-made certificate.
    fetch: (url, init) => fetch(url, { ...init, tls: { ...TEST_TLS, ...clientCert } } as RequestInit),
  });
  const client = new Client({ name: "shed-test", version: "1" });
  await client.connect(transport);
  return harness(client);
}

/** The error text of a failed call (`CODE: message`). */
export function errorText(r: CallToolResult): string {
  return (r.content as { type: string; text: string }[]).map((c) => c.text).join("\n");
}
