import { ServerWebSocketTransport } from "../../agent/protocol/transports/websocket.ts";
import type { BROKER_API } from "../../api/endpoints/broker.ts";
import { encodeLine, LineReader } from "../../broker/messages.ts";
import type { ServerContext } from "../context.ts";
import type { Handler } from "./mount.ts";

/** GET /api/broker: the broker's one connection, JSON lines both ways, handed to the hub. */
export function brokerSocketHandler(ctx: ServerContext): Handler<typeof BROKER_API.connectBroker> {
  return ({ query }) => {
    let transport: ServerWebSocketTransport | undefined;
    return {
      open: (ws) => {
        const t = new ServerWebSocketTransport(ws, "websocket:broker");
        transport = t;
        const bye = (reason: string) => {
          t.write(encodeLine({ bye: { reason } }));
          t.close();
        };
        // `shed console --broker` brokers only while nobody else does.
        if (query.ifNone === "true" && ctx.broker.status().connected) return bye("a broker is already connected to this server");
        const lines = new LineReader();
        const session = ctx.broker.connect({
          peer: query.peer ?? "unnamed",
          send: (doc) => t.write(encodeLine(doc)),
          close: (reason) => (reason ? bye(reason) : t.close()),
        });
        t.start({
          data: (chunk) => {
            let got: string[];
            try {
              got = lines.push(chunk);
            } catch {
              return t.close();
            }
            for (const line of got) session.received(line);
          },
          end: () => session.gone(),
        });
        t.write(encodeLine({ welcome: { server: ctx.config.name, version: ctx.version } }));
      },
      message: (_ws, data) => transport?.received(data),
      drain: () => transport?.drain(),
      close: () => transport?.gone(),
    };
  };
}
