import type { Server, ServerWebSocket } from "bun";
import type { Context } from "hono";
import { ShedError } from "../api/errors.ts";

/** What a route does with an upgraded socket; Bun's events, per socket. */
export interface SocketSession {
  open(ws: ServerWebSocket<SocketData>): void;
  message(ws: ServerWebSocket<SocketData>, data: string | Buffer): void;
  drain?(ws: ServerWebSocket<SocketData>): void;
  close(ws: ServerWebSocket<SocketData>, code: number, reason: string): void;
}

export interface SocketData {
  session: SocketSession;
}

/**
 * Upgrades the request of a hono route (Bun passes its server as the env) and hands the
 * socket's events to `session`.
 */
export function upgrade(c: Context, session: SocketSession): Response {
  const server = c.env as Server<SocketData> | undefined;
  if (!server?.upgrade) throw new ShedError("INTERNAL", "WebSocket upgrade needs Bun.serve");
  if (!server.upgrade(c.req.raw, { data: { session } })) {
    throw new ShedError("INVALID_REQUEST", "this endpoint is a WebSocket: send an Upgrade request");
  }
  return new Response(null);
}

/** The `websocket` option of Bun.serve: routes each event to the socket's own session. */
export const websocket = {
  open: (ws: ServerWebSocket<SocketData>) => ws.data.session.open(ws),
  message: (ws: ServerWebSocket<SocketData>, data: string | Buffer) => ws.data.session.message(ws, data),
  drain: (ws: ServerWebSocket<SocketData>) => ws.data.session.drain?.(ws),
  close: (ws: ServerWebSocket<SocketData>, code: number, reason: string) => ws.data.session.close(ws, code, reason),
  // Exec output is already framed in up to 256 KiB pieces; allow a few in one message.
  maxPayloadLength: 16 * 1024 * 1024,
  backpressureLimit: 4 * 1024 * 1024,
  perMessageDeflate: false,
};
