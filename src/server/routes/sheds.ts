import { Hono } from "hono";
import * as v from "valibot";
import { ShedError } from "../../api/errors.ts";
import { CreateShedRequestSchema, ShedNameSchema, StopShedRequestSchema } from "../../api/schemas/shed.ts";
import { parseOrThrow } from "../../api/validation.ts";
import type { ServerContext } from "../context.ts";
import { jsonBody, progressResponse } from "./progress-response.ts";

/** A shed name from the path, checked before anything else happens. */
export function shedName(raw: string): string {
  const result = v.safeParse(ShedNameSchema, raw);
  if (!result.success) {
    throw new ShedError(
      "INVALID_NAME",
      `invalid shed name "${raw}": ${result.issues[0]?.message ?? "not a DNS label"}`,
    );
  }
  return result.output;
}

export function shedRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  const { sheds } = ctx;

  app.get("/sheds", async (c) => c.json({ sheds: await sheds.list() }));

  app.post("/sheds", async (c) => {
    const body = await jsonBody(c);
    if (body && typeof body === "object" && "name" in body && typeof body.name === "string") shedName(body.name);
    const req = parseOrThrow(CreateShedRequestSchema, body);
    return progressResponse(c, (progress) => sheds.create(req, progress), 201);
  });

  app.get("/sheds/:name", async (c) => c.json(await sheds.get(shedName(c.req.param("name")))));

  app.delete("/sheds/:name", async (c) => {
    const name = shedName(c.req.param("name"));
    const force = c.req.query("force") === "true";
    return progressResponse(c, (progress) => sheds.delete(name, force, progress));
  });

  app.post("/sheds/:name/start", async (c) => {
    const name = shedName(c.req.param("name"));
    return progressResponse(c, (progress) => sheds.start(name, progress));
  });

  app.post("/sheds/:name/stop", async (c) => {
    const name = shedName(c.req.param("name"));
    const body = parseOrThrow(StopShedRequestSchema, await jsonBody(c));
    return c.json(await sheds.stop(name, body.timeoutSeconds));
  });

  app.post("/sheds/:name/reset", async (c) => {
    const name = shedName(c.req.param("name"));
    return progressResponse(c, (progress) => sheds.reset(name, progress));
  });

  return app;
}
