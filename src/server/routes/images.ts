import { Hono } from "hono";
import { ShedError } from "../../api/errors.ts";
import {
  BuildImageQuerySchema,
  PruneImagesRequestSchema,
  PullImageRequestSchema,
  PushImageRequestSchema,
  TagImageRequestSchema,
} from "../../api/schemas/image.ts";
import { parseOrThrow } from "../../api/validation.ts";
import type { ServerContext } from "../context.ts";
import { jsonBody, progressResponse } from "./progress-response.ts";

/**
 * /api/images: the image store. Refs contain `/` and `:`, so they travel in query strings
 * and bodies, never in the path. Pull, push and load stream progress as SSE when asked;
 * save answers with the archive itself; load takes the archive as the request body.
 */
export function imageRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  const images = () => ctx.images;

  app.get("/images", async (c) => c.json({ images: await images().list() }));

  app.post("/images/pull", async (c) => {
    const req = parseOrThrow(PullImageRequestSchema, await jsonBody(c));
    return progressResponse(c, (progress) => images().pull(req, progress));
  });

  app.post("/images/push", async (c) => {
    const req = parseOrThrow(PushImageRequestSchema, await jsonBody(c));
    return progressResponse(c, (progress) => images().push(req, progress));
  });

  app.post("/images/tag", async (c) => {
    const req = parseOrThrow(TagImageRequestSchema, await jsonBody(c));
    return c.json(await images().tag(req.source, req.target));
  });

  app.delete("/images", async (c) => {
    const ref = requiredQuery(c.req.query("ref"), "ref");
    return c.json(await images().remove(ref, c.req.query("force") === "true"));
  });

  app.post("/images/prune", async (c) => {
    const req = parseOrThrow(PruneImagesRequestSchema, await jsonBody(c));
    return c.json(await images().prune(req));
  });

  app.get("/images/inspect", async (c) => c.json(await images().inspect(requiredQuery(c.req.query("ref"), "ref"))));

  app.get("/images/history", async (c) => c.json(await images().history(requiredQuery(c.req.query("ref"), "ref"))));

  app.get("/images/save", async (c) => {
    const refs = c.req.queries("ref") ?? [];
    if (refs.length === 0) throw new ShedError("INVALID_REQUEST", "name the images to save with ?ref=... (repeatable)");
    const format = c.req.query("format") ?? "oci";
    if (format !== "oci" && format !== "docker") throw new ShedError("INVALID_REQUEST", `format must be oci or docker, not "${format}"`);
    const archive = await images().save(refs, format);
    return new Response(archive.stream, {
      headers: { "content-type": "application/x-tar", "content-length": String(archive.size) },
    });
  });

  app.post("/images/load", async (c) => {
    const body = c.req.raw.body;
    if (!body) throw new ShedError("INVALID_REQUEST", "send the image archive (a tar) as the request body");
    const tag = c.req.query("tag") || undefined;
    return progressResponse(c, (progress) => images().load(body, tag, progress));
  });

  app.post("/images/build", async (c) => {
    const body = c.req.raw.body;
    if (!body) throw new ShedError("INVALID_REQUEST", "send the build context (a tar) as the request body");
    const { build_arg, ...single } = c.req.query();
    const query = parseOrThrow(BuildImageQuerySchema, { ...single, ...(build_arg ? { build_arg: c.req.queries("build_arg") } : {}) });
    return progressResponse(c, (progress) => images().build(body, query, progress));
  });

  return app;
}

function requiredQuery(value: string | undefined, name: string): string {
  if (!value) throw new ShedError("INVALID_REQUEST", `the query parameter "${name}" is required`);
  return value;
}
