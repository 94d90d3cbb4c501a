import type { AgentConnection } from "../agent/protocol/api.ts";
import { connectAgent } from "../agent/protocol/client.ts";
import { dialWebSocket } from "../agent/protocol/transports/websocket.ts";
import { VERSION } from "../version.ts";
import { ApiClient, DEFAULT_TIMEOUT_MS, type ServerEndpoint } from "./client.ts";
import { ShedError } from "./errors.ts";

/**
 * The CLI's line to a shed's agent: GET /api/sheds/{name}/agent upgraded to a WebSocket
 * that carries the agent protocol, relayed by the server. Errors (unknown shed, stopped
 * shed, bad token) arrive as the hello's ERROR with the API's code. The socket must open
 * and the hello come back within the client's timeout (longer with `start`: a boot).
 */
export async function openShedAgent(
  endpoint: ServerEndpoint,
  name: string,
  opts: { start?: boolean; timeoutMs?: number } = {},
): Promise<AgentConnection> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const api = new ApiClient(endpoint, timeoutMs);
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  const query = opts.start ? "?start=true" : "";
  const url = `ws://${host}:${endpoint.httpPort}/api/sheds/${encodeURIComponent(name)}/agent${query}`;
  const headers: Record<string, string> = endpoint.token ? { authorization: `Bearer ${endpoint.token}` } : {};
  const transport = await withTimeout(
    dialWebSocket(url, headers).catch((err) => {
      throw api.unreachable(err instanceof ShedError ? err.cause ?? new Error("refused") : err);
    }),
    timeoutMs,
    () => api.timedOut(timeoutMs),
  );
  // Starting a stopped shed first may take a boot; otherwise the hello is immediate.
  const helloTimeoutMs = opts.start ? 600_000 : timeoutMs || 600_000;
  try {
    return await connectAgent(transport, { client: `shed ${VERSION}`, helloTimeoutMs });
  } catch (err) {
    if (err instanceof ShedError && err.code === "PROTOCOL_ERROR" && /no hello/.test(err.message)) throw api.timedOut(helloTimeoutMs);
    if (err instanceof ShedError && err.code === "AGENT_UNAVAILABLE" && /closed during hello/.test(err.message)) throw api.lost(err);
    throw err;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  if (!ms) return p;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
