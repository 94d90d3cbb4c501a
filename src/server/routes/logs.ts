import { Hono } from "hono";
import type * as v from "valibot";
import type { LogsQuerySchema, ShedLogs } from "../../api/schemas/logs.ts";
import type { ServerContext } from "../context.ts";
import { checkedQuery } from "./contract.ts";

/** GET /api/sheds/{name}/logs[?tail=BYTES]: the VM console log or the container's output. */
export function logsRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  app.get("/sheds/:name/logs", async (c) => {
    const name = c.req.param("name");
    const { tail } = checkedQuery<v.InferOutput<typeof LogsQuerySchema>>(c);
    const body: ShedLogs = { name, text: await ctx.sheds.logs(name, tail) };
    return c.json(body);
  });
  return app;
}
