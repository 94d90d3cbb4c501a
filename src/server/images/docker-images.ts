import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import type { DockerEngine } from "../../backends/docker/engine.ts";
import { importImageFromStore } from "../../backends/docker/image-import.ts";
import type { ImageService } from "./service.ts";

/**
 * The image of a Docker shed: one the engine already has (a local `docker build`) is used as
 * it is; any other comes from the shed store, pulled registry-direct per docker.pull_policy,
 * and is loaded into the engine. Returns what to create the container from.
 */
export async function ensureDockerImage(engine: DockerEngine, images: ImageService, input: string, progress: Progress): Promise<string> {
  const ref = images.expand(input, "docker");
  if (await engine.imageExists(ref)) return ref;
  let stored: Awaited<ReturnType<ImageService["ensure"]>>;
  try {
    stored = await images.ensure(ref, "docker", progress);
  } catch (err) {
    if (err instanceof ShedError && (err.code === "IMAGE_NOT_FOUND" || err.code === "REGISTRY_ERROR")) {
      throw new ShedError(
        "IMAGE_NOT_FOUND",
        `image "${input}" is neither in the Docker engine nor in the server's image store, and pulling it failed: ${err.message}`,
        { cause: err },
      );
    }
    throw err;
  }
  const imported = await importImageFromStore(engine, images.store, stored.ref ?? stored.manifestDigest, progress);
  return imported.imageId;
}
