import { Hono } from "hono";
import { ShedError, toShedError } from "../api/errors.ts";
import type { ServerContext } from "./context.ts";
import { requireToken } from "./auth.ts";
import { agentSocketRoutes } from "./routes/agent-socket.ts";
import { imageRoutes } from "./routes/images.ts";
import { infoRoutes } from "./routes/info.ts";
import { logsRoutes } from "./routes/logs.ts";
import { openapiRoutes } from "./routes/openapi.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { shedRoutes } from "./routes/sheds.ts";

/**
 * The HTTP API. Each routes/<noun>.ts returns a Hono app for its part of /api; this file
 * only mounts them and turns every thrown error into `{code, message}` with its status.
 */
export function createApp(ctx: ServerContext): Hono {
  const app = new Hono();

  app.onError((err, c) => {
    const shedErr = toShedError(err);
    if (shedErr.code === "INTERNAL") ctx.logger.error("request failed", { error: String(err) });
    return c.json(shedErr.toJSON(), shedErr.status as 500);
  });
  app.notFound((c) =>
    c.json(new ShedError("NOT_FOUND", `no such endpoint: ${c.req.method} ${c.req.path}`).toJSON(), 404),
  );

  app.use("/api/*", requireToken(ctx));
  app.route("/api", infoRoutes(ctx));
  app.route("/api", openapiRoutes());
  app.route("/api", shedRoutes(ctx));
  app.route("/api", agentSocketRoutes(ctx));
  app.route("/api", imageRoutes(ctx));
  app.route("/api", logsRoutes(ctx));
  app.route("/api", sessionRoutes(ctx));
  return app;
}
