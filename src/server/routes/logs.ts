import { Hono } from "hono";
import { LogsQuerySchema, type ShedLogs } from "../../api/schemas/logs.ts";
import { parseOrThrow } from "../../api/validation.ts";
import type { ServerContext } from "../context.ts";

/** GET /api/sheds/{name}/logs[?tail=BYTES]: the VM console log or the container's output. */
export function logsRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  app.get("/sheds/:name/logs", async (c) => {
    const name = c.req.param("name");
    const query = parseOrThrow(LogsQuerySchema, c.req.query(), "INVALID_REQUEST", "query");
    const tail = query.tail ? Math.min(Number(query.tail), 16 * 1024 * 1024) : undefined;
    const body: ShedLogs = { name, text: await ctx.sheds.logs(name, tail) };
    return c.json(body);
  });
  return app;
}
