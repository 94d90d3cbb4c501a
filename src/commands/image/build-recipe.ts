import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { buildImage, DEFAULT_CACHE } from "../../../guest/build/build.ts";
import { IMAGE_API } from "../../api/endpoints/images.ts";
import type { LoadImageResult } from "../../api/schemas/image.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import { saveOciArchive } from "../../oci/archive/save.ts";
import { openLayout } from "../../oci/store/layout.ts";
import { cli } from "../../cli/context.ts";
import { usageError } from "../../cli/values.ts";

/**
 * `shed image build --recipe guest/base`: a guest image built here from a recipe (debootstrap,
 * apt, npm; no Docker; root needed), then loaded into the server's store like `image load`.
 * The OS stage and the result are cached by recipe hash under SHED_IMAGE_CACHE.
 */
export async function buildRecipe(recipe: string, opts: { tag?: string; agent?: string; progress: Progress }): Promise<LoadImageResult & { layout: string }> {
  if (!existsSync(recipe)) throw usageError(`no recipe at ${recipe}: give a directory like guest/base`);
  const agentPath = opts.agent ?? join(dirname(process.execPath), "shed-agent");
  if (!existsSync(agentPath)) throw usageError(`no shed-agent at ${agentPath} to bake into the image: pass --agent PATH`);
  if (process.getuid?.() !== 0) throw usageError("building a guest image needs root (debootstrap and chroot); run it with sudo");
  const built = await buildImage({
    recipe,
    agentPath,
    cacheDir: process.env.SHED_IMAGE_CACHE ?? DEFAULT_CACHE,
    ...(opts.tag ? { ref: opts.tag } : {}),
    say: (line) => opts.progress({ id: "recipe", status: line }),
  });
  const archive = await saveOciArchive(openLayout(built.dir), [built.ref]);
  const loaded = await cli().client().call(IMAGE_API.loadImage, { body: archive.stream, query: { tag: built.ref }, onProgress: opts.progress });
  return { ...loaded, layout: built.dir };
}
