import type { AgentConnection } from "../agent/protocol/api.ts";
import { connectAgent } from "../agent/protocol/client.ts";
import { dialWebSocket } from "../agent/protocol/transports/websocket.ts";
import { VERSION } from "../version.ts";
import type { ServerEndpoint } from "./client.ts";

/**
 * The CLI's line to a shed's agent: GET /api/sheds/{name}/agent upgraded to a WebSocket
 * that carries the agent protocol, relayed by the server. Errors (unknown shed, stopped
 * shed, bad token) arrive as the hello's ERROR with the API's code.
 */
export async function openShedAgent(
  endpoint: ServerEndpoint,
  name: string,
  opts: { start?: boolean } = {},
): Promise<AgentConnection> {
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  const query = opts.start ? "?start=true" : "";
  const url = `ws://${host}:${endpoint.httpPort}/api/sheds/${encodeURIComponent(name)}/agent${query}`;
  const headers: Record<string, string> = endpoint.token ? { authorization: `Bearer ${endpoint.token}` } : {};
  const transport = await dialWebSocket(url, headers);
  return connectAgent(transport, { client: `shed ${VERSION}`, helloTimeoutMs: 600_000 });
}
