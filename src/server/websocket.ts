import { createBunWebSocket } from "hono/bun";

/**
 * Bun's WebSocket support for hono routes: routes call upgradeWebSocket, and the server
 * passes `websocket` to Bun.serve.
 */
export const { upgradeWebSocket, websocket } = createBunWebSocket();
