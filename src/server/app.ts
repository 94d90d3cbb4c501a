import { Hono } from "hono";
import { ENDPOINTS } from "../api/endpoints.ts";
import { ShedError, toShedError } from "../api/errors.ts";
import type { ServerContext } from "./context.ts";
import { requireToken } from "./auth.ts";
import { agentSocketRoutes } from "./routes/agent-socket.ts";
import { limitBodies } from "./routes/body-limit.ts";
import { allowedMethods, guardEndpoints } from "./routes/contract.ts";
import { imageRoutes } from "./routes/images.ts";
import { infoRoutes } from "./routes/info.ts";
import { logsRoutes } from "./routes/logs.ts";
import { openapiRoutes } from "./routes/openapi.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { shedRoutes } from "./routes/sheds.ts";

/**
 * The HTTP API. Each routes/<noun>.ts returns a Hono app for its part of /api; this file
 * mounts them behind the catalog's guards (auth, body caps, parameter schemas) and turns
 * every thrown error into `{code, message}` with its status.
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

  app.use("/api/*", requireToken(ctx));
  app.use("/api/*", limitBodies(ENDPOINTS, { jsonCap: ctx.config.max_body_bytes, archiveCap: ctx.config.max_archive_bytes }));
  guardEndpoints(app, ENDPOINTS);
  app.route("/api", infoRoutes(ctx));
  app.route("/api", openapiRoutes());
  app.route("/api", shedRoutes(ctx));
  app.route("/api", agentSocketRoutes(ctx));
  app.route("/api", imageRoutes(ctx));
  app.route("/api", logsRoutes(ctx));
  app.route("/api", sessionRoutes(ctx));
  return app;
}
