import { randomBytes } from "node:crypto";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import type { Context, Hono } from "hono";
import { ApiClient, type ServerEndpoint } from "../../api/client.ts";
import { ShedError } from "../../api/errors.ts";
import { createMcpServer } from "../../mcp/server.ts";
import { ShedClient } from "../../sdk/shed-client.ts";
import type { ServerContext } from "../context.ts";
import { refuseLongBody } from "./body-limit.ts";

export const MCP_PATH = "/api/mcp";
/** Sessions kept at once; past it the one idle longest is closed. */
const MAX_SESSIONS = 64;
/** A session nobody used for this long is closed. */
const IDLE_MS = 30 * 60_000;

/**
 * /api/mcp: the MCP tools of `shed mcp` over Streamable HTTP, behind the server's own auth
 * (app.ts puts the token check on /api/*). Mounted beside the catalog, not from it: the
 * SDK's transport owns the whole request (GET, POST and DELETE on one path, JSON-RPC
 * bodies it parses itself, SSE answers, the Mcp-Session-Id header), which a catalog entry
 * (one method, one JSON schema, one answer) cannot describe. The tools reach the sheds
 * through a ShedClient on this server's own loopback with its own token, so they behave
 * exactly as over stdio: one implementation, the public contract, the same errors.
 */
export function mountMcp(app: Hono, ctx: ServerContext): void {
  const sessions = new Map<string, { transport: WebStandardStreamableHTTPServerTransport; used: number }>();
  let client: ShedClient | undefined;
  const shedClient = () => {
    client ??= new ShedClient(new ApiClient(loopbackEndpoint(ctx)));
    return client;
  };
  const sweep = () => {
    const now = Date.now();
    const idle = [...sessions.entries()].sort((a, b) => a[1].used - b[1].used);
    for (const [id, s] of idle) {
      if (now - s.used < IDLE_MS && sessions.size < MAX_SESSIONS) break;
      sessions.delete(id);
      void s.transport.close();
    }
  };

  app.all(MCP_PATH, async (c: Context) => {
    refuseForeignOrigin(c);
    refuseLongBody(c, ctx.config.max_body_bytes);
    const id = c.req.header("mcp-session-id");
    const known = id ? sessions.get(id) : undefined;
    if (known) {
      known.used = Date.now();
      return known.transport.handleRequest(c.req.raw);
    }
    if (id) throw new ShedError("NOT_FOUND", `no MCP session ${id} (it ended or the server restarted): initialize a new one`);
    // A new session starts with an initialize request; the transport answers anything else with its own error.
    const body = c.req.method === "POST" ? await c.req.json().catch(() => undefined) : undefined;
    if (!isInitializeRequest(body)) throw new ShedError("INVALID_REQUEST", "an MCP session starts with a POST of an initialize request (or send its Mcp-Session-Id header)");
    sweep();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      maxRequestBodySize: ctx.config.max_body_bytes,
      onsessioninitialized: (sid) => void sessions.set(sid, { transport, used: Date.now() }),
      onsessionclosed: (sid) => void sessions.delete(sid),
    });
    const server = createMcpServer({ client: shedClient(), local: false });
    await server.connect(transport);
    return transport.handleRequest(c.req.raw, { parsedBody: body });
  });
}

/**
 * How the tools reach this server: its own address; in token mode over HTTPS with its own
 * certificate pinned and the per-process internal token (never stored, never handed out); in
 * mtls mode with a client certificate its CA signs for itself, and the internal token too.
 */
function loopbackEndpoint(ctx: ServerContext): ServerEndpoint {
  const host = ["0.0.0.0", "::", ""].includes(ctx.config.bind_address) ? "127.0.0.1" : ctx.config.bind_address;
  const base = { name: ctx.config.name, host, httpPort: ctx.httpPort, sshPort: ctx.sshPort };
  if (!ctx.tls || !ctx.httpsPort) return base;
  const tls = { port: ctx.httpsPort, certificate: ctx.tls.cert, fingerprint: ctx.tls.fingerprint };
  if (ctx.clientCa) {
    const own = ctx.clientCa.sign(`${ctx.config.name} MCP`, 86_400, randomBytes(16).toString("hex"));
    return { ...base, tls: { ...tls, clientCert: own.cert, clientKey: own.key }, ...(ctx.internalToken ? { token: ctx.internalToken } : {}) };
  }
  return { ...base, tls, ...(ctx.internalToken ? { token: ctx.internalToken } : {}) };
}

/**
 * A browser page must not drive the server (DNS rebinding, cross-site requests): a request
 * that carries an Origin is taken only from the server's own host. Agents send none.
 */
function refuseForeignOrigin(c: Context): void {
  const origin = c.req.header("origin");
  if (!origin) return;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    // not a URL: refused below
  }
  if (host !== c.req.header("host")) throw new ShedError("FORBIDDEN", `requests from the web page ${origin} are refused at ${MCP_PATH}`);
}
