import type { AgentConnection } from "../../agent/protocol/api.ts";
import { errorToPayload } from "../../agent/protocol/errors.ts";
import { encodeFrame, FrameType, jsonPayload } from "../../agent/protocol/frame.ts";
import type { AgentOps } from "../../agent/protocol/ops.ts";
import { serveAgent } from "../../agent/protocol/service.ts";
import { ServerWebSocketTransport } from "../../agent/protocol/transports/websocket.ts";
import type { SHED_API } from "../../api/endpoints/sheds.ts";
import { ShedError } from "../../api/errors.ts";
import type { ServerContext } from "../context.ts";
import type { Handler } from "./mount.ts";

/**
 * GET /api/sheds/{name}/agent: a WebSocket that speaks the agent protocol (exec, files,
 * tcp). The server relays each stream to the shed's one pooled agent connection, so a
 * client sees exactly what the agent says, whatever transport the backend uses.
 */
export function agentSocketHandler(ctx: ServerContext): Handler<typeof SHED_API.connectShedAgent> {
  return ({ params: { name }, query }) => {
    const startIfStopped = query.start === "true";
    let transport: ServerWebSocketTransport | undefined;
    return {
      open: (ws) => {
        transport = new ServerWebSocketTransport(ws, `websocket:${name}`);
        const t = transport;
        connectShed(ctx, name, startIfStopped).then(
          (conn) => serveAgent(t, relayOps(conn), { logger: ctx.logger }),
          (err) => {
            // Said where the client waits for HELLO, so it gets the code, not a closed socket.
            t.write(encodeFrame({ type: FrameType.ERROR, flags: 0, stream: 0, payload: jsonPayload(errorToPayload(err)) }));
            t.close();
          },
        );
      },
      message: (_ws, data) => transport?.received(data),
      drain: () => transport?.drain(),
      close: () => transport?.gone(),
    };
  };
}

async function connectShed(ctx: ServerContext, name: string, startIfStopped: boolean): Promise<AgentConnection> {
  if (startIfStopped && (await ctx.sheds.get(name)).state === "stopped") await ctx.sheds.start(name, () => {});
  return ctx.sheds.agent(name);
}

function relayOps(conn: AgentConnection): AgentOps {
  const { protocol: _p, ...info } = conn.info;
  return {
    info: () => info,
    health: () => conn.health(),
    exec: (req) => conn.exec(req),
    putArchive: (dir, tar, opts) => conn.putArchive(dir, tar, opts),
    getArchive: (path) => conn.getArchive(path),
    connectTcp: (port, host) => conn.connectTcp(port, host),
    listenUnix: (path, opts) => conn.listenUnix(path, opts),
    acceptUnix: (path) => conn.acceptUnix(path),
    ...(conn.splice ? { splice: (request, host, onDone) => conn.splice!(request, host, onDone) } : {}),
    shutdown: async () => {
      throw new ShedError("FORBIDDEN", "the agent's shutdown belongs to the server: use `shed stop`");
    },
  };
}
