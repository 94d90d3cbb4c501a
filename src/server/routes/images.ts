import type { IMAGE_API } from "../../api/endpoints/images.ts";
import { ShedError } from "../../api/errors.ts";
import type { ServerContext } from "../context.ts";
import { checkBuildContext } from "./build-context.ts";
import type { Handlers } from "./mount.ts";

/**
 * /api/images: the image store. Pull, push, load and build stream progress as SSE when
 * asked; save answers with the archive itself; load and build take an archive as the
 * (capped) request body.
 */
export function imageHandlers(ctx: ServerContext): Handlers<typeof IMAGE_API> {
  const images = () => ctx.images;
  return {
    listImages: async () => ({ images: await images().list() }),
    pullImage: ({ body }) => (progress) => images().pull(body, progress),
    pushImage: ({ body }) => (progress) => images().push(body, progress),
    tagImage: ({ body }) => images().tag(body.source, body.target),
    removeImage: ({ query }) => images().remove(query.ref, query.force === "true"),
    pruneImages: ({ body }) => images().prune(body),
    inspectImage: ({ query }) => images().inspect(query.ref),
    imageHistory: ({ query }) => images().history(query.ref),
    saveImages: ({ query }) => images().save(query.ref, query.format ?? "oci"),
    loadImage:
      ({ body, query }) =>
      (progress) =>
        images().load(body, query.tag, progress),
    buildImage: async ({ body, query }) => {
      // The tar's first block is checked before the answer starts: garbage is a plain 400.
      const context = await checkBuildContext(body);
      return async (progress) => {
        try {
          return await images().build(context.stream, query, progress);
        } catch (err) {
          const problem = context.problem();
          if (problem) throw new ShedError("INVALID_REQUEST", `the build context is not a whole tar archive: ${problem}`, { cause: err });
          throw err;
        }
      };
    },
  };
}
