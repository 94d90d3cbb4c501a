import { Hono } from "hono";
import type { SessionList } from "../../api/schemas/session.ts";
import type { ServerContext } from "../context.ts";
import { killTmuxSession, listTmuxSessions } from "../sessions/tmux.ts";

/** /api/sheds/{name}/sessions: the shed's tmux sessions, through its agent. */
export function sessionRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  app.get("/sheds/:name/sessions", async (c) => {
    const shed = c.req.param("name");
    const body: SessionList = { shed, sessions: await listTmuxSessions(await ctx.sheds.agent(shed)) };
    return c.json(body);
  });
  app.delete("/sheds/:name/sessions/:session", async (c) => {
    await killTmuxSession(await ctx.sheds.agent(c.req.param("name")), c.req.param("session"));
    return c.body(null, 204);
  });
  return app;
}
