import { Hono } from "hono";
import { openApiDocument } from "../../api/openapi.ts";
import { VERSION } from "../../version.ts";

export function openapiRoutes(): Hono {
  const app = new Hono();
  let doc: Record<string, unknown> | undefined;
  app.get("/openapi.json", (c) => c.json((doc ??= openApiDocument(VERSION))));
  return app;
}
