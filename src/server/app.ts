import { Hono } from "hono";
import { API, ENDPOINTS } from "../api/endpoints.ts";
import { ShedError, toShedError } from "../api/errors.ts";
import type { ServerContext } from "./context.ts";
import { requireCredentials } from "./auth.ts";
import { agentSocketHandler } from "./routes/agent-socket.ts";
import { brokerSocketHandler } from "./routes/broker.ts";
import { imageHandlers } from "./routes/images.ts";
import { infoHandlers } from "./routes/info.ts";
import { mountMcp } from "./routes/mcp.ts";
import { allowedMethods, mountEndpoints } from "./routes/mount.ts";
import { openApiHandler } from "./routes/openapi.ts";
import { shedHandlers } from "./routes/sheds.ts";
import { snapshotHandlers } from "./routes/snapshots.ts";
import { systemHandlers } from "./routes/system.ts";

/**
 * The HTTP API: every route is mounted from the catalog (src/api/endpoints.ts) behind the
 * token check; each routes/<noun>.ts gives the handlers of its part; every thrown error
 * becomes `{code, message}` with its status.
 */
export function createApp(ctx: ServerContext): Hono {
  const app = new Hono();

  app.onError((err, c) => {
    const shedErr = toShedError(err);
    if (shedErr.status >= 500) ctx.logger.error("request failed", { path: c.req.path, code: shedErr.code, error: String(err) });
    // A stray exception's message may carry host paths: the log has it, the client gets the code.
    const body = err instanceof ShedError ? shedErr.toJSON() : { code: shedErr.code, message: "the server failed on this request; its log says why" };
    return c.json(body, shedErr.status as 500);
  });
  app.notFound((c) => {
    const allow = allowedMethods(ENDPOINTS, c.req.path);
    if (allow.length > 0) {
      const err = new ShedError("METHOD_NOT_ALLOWED", `${c.req.method} is not a method of ${c.req.path}; it takes ${allow.join(", ")}`);
      return c.json(err.toJSON(), 405, { allow: allow.join(", ") });
    }
    return c.json(new ShedError("NOT_FOUND", `no such endpoint: ${c.req.method} ${c.req.path}`).toJSON(), 404);
  });

  app.use("/api/*", requireCredentials(ctx));
  const handlers = {
    ...infoHandlers(ctx),
    getOpenApi: openApiHandler(),
    ...shedHandlers(ctx),
    connectShedAgent: agentSocketHandler(ctx),
    connectBroker: brokerSocketHandler(ctx),
    ...snapshotHandlers(ctx),
    ...systemHandlers(ctx),
    ...imageHandlers(ctx),
  };
  mountEndpoints(app, API, handlers, { jsonCap: ctx.config.max_body_bytes, archiveCap: ctx.config.max_archive_bytes });
  // MCP's Streamable HTTP is one transport-owned path beside the catalog (routes/mcp.ts says why).
  mountMcp(app, ctx);
  return app;
}
