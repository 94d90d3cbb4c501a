import { Hono } from "hono";
import type * as v from "valibot";
import { ShedError } from "../../api/errors.ts";
import {
  type BuildImageQuery,
  type ImageRefQuerySchema,
  type LoadImageQuerySchema,
  PruneImagesRequestSchema,
  PullImageRequestSchema,
  PushImageRequestSchema,
  type RemoveImageQuerySchema,
  type SaveImagesQuerySchema,
  TagImageRequestSchema,
} from "../../api/schemas/image.ts";
import { parseOrThrow } from "../../api/validation.ts";
import type { ServerContext } from "../context.ts";
import { checkBuildContext } from "./build-context.ts";
import { cappedBody } from "./body-limit.ts";
import { checkedQuery } from "./contract.ts";
import { jsonBody, progressResponse } from "./progress-response.ts";

type Query<S extends v.GenericSchema> = v.InferOutput<S>;

/**
 * /api/images: the image store. Refs contain `/` and `:`, so they travel in query strings
 * and bodies, never in the path (the catalog's query schemas check them first). Pull, push
 * and load stream progress as SSE when asked; save answers with the archive itself; load
 * and build take an archive as the (capped) request body.
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
    const q = checkedQuery<Query<typeof RemoveImageQuerySchema>>(c);
    return c.json(await images().remove(q.ref, q.force === "true"));
  });

  app.post("/images/prune", async (c) => {
    const req = parseOrThrow(PruneImagesRequestSchema, await jsonBody(c));
    return c.json(await images().prune(req));
  });

  app.get("/images/inspect", async (c) => c.json(await images().inspect(checkedQuery<Query<typeof ImageRefQuerySchema>>(c).ref)));

  app.get("/images/history", async (c) => c.json(await images().history(checkedQuery<Query<typeof ImageRefQuerySchema>>(c).ref)));

  app.get("/images/save", async (c) => {
    const q = checkedQuery<Query<typeof SaveImagesQuerySchema>>(c);
    const archive = await images().save(q.ref, q.format ?? "oci");
    return new Response(archive.stream, {
      headers: { "content-type": "application/x-tar", "content-length": String(archive.size) },
    });
  });

  app.post("/images/load", async (c) => {
    const body = cappedBody(c);
    if (!body) throw new ShedError("INVALID_REQUEST", "send the image archive (a tar) as the request body");
    const { tag } = checkedQuery<Query<typeof LoadImageQuerySchema>>(c);
    return progressResponse(c, (progress) => images().load(body, tag, progress));
  });

  app.post("/images/build", async (c) => {
    const raw = cappedBody(c);
    if (!raw) throw new ShedError("INVALID_REQUEST", "send the build context (a tar) as the request body");
    const context = await checkBuildContext(raw);
    const query = checkedQuery<BuildImageQuery>(c);
    return progressResponse(c, async (progress) => {
      try {
        return await images().build(context.stream, query, progress);
      } catch (err) {
        const problem = context.problem();
        if (problem) throw new ShedError("INVALID_REQUEST", `the build context is not a whole tar archive: ${problem}`, { cause: err });
        throw err;
      }
    });
  });

  return app;
}
