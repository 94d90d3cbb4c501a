import type { AgentConnection } from "../agent/protocol/api.ts";
import { connectAgent } from "../agent/protocol/client.ts";
import { VERSION } from "../version.ts";
import type { ApiClient } from "./client.ts";
import { SHED_API } from "./endpoints/sheds.ts";
import { ShedError } from "./errors.ts";

/**
 * The CLI's line to a shed's agent: GET /api/sheds/{name}/agent upgraded to a WebSocket
 * that carries the agent protocol, relayed by the server. Errors (unknown shed, stopped
 * shed, bad token) arrive as the hello's ERROR with the API's code. The socket must open
 * and the hello come back within the client's timeout (longer with `start`: a boot).
 */
export async function openShedAgent(client: ApiClient, name: string, opts: { start?: boolean } = {}): Promise<AgentConnection> {
  const transport = await client.call(SHED_API.connectShedAgent, { params: { name }, query: opts.start ? { start: "true" } : {} });
  // Starting a stopped shed first may take a boot; otherwise the hello is immediate.
  const helloTimeoutMs = opts.start ? 600_000 : client.timeoutMs || 600_000;
  try {
    return await connectAgent(transport, { client: `shed ${VERSION}`, helloTimeoutMs });
  } catch (err) {
    if (err instanceof ShedError && err.code === "PROTOCOL_ERROR" && /no hello/.test(err.message)) throw client.timedOut(helloTimeoutMs);
    if (err instanceof ShedError && err.code === "AGENT_UNAVAILABLE" && /closed during hello/.test(err.message)) throw client.lost(err);
    throw err;
  }
}
