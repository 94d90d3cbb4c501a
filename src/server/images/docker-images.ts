import type { Progress } from "../../api/schemas/shed.ts";
import type { DockerEngine } from "../../backends/docker/engine.ts";
import { importImageFromStore } from "../../backends/docker/image-import.ts";
import type { ImageService } from "./service.ts";

/**
 * The image of a Docker shed: one the engine already has (a local `docker build`) is used as
 * it is; any other comes from the shed store, pulled registry-direct per docker.pull_policy
 * (IMAGE_NOT_FOUND when that fails), and is loaded into the engine. Returns what to create
 * the container from.
 */
export async function ensureDockerImage(engine: DockerEngine, images: ImageService, input: string, progress: Progress): Promise<string> {
  const ref = images.expand(input, "docker");
  if (await engine.imageExists(ref)) return ref;
  const stored = await images.ensure(ref, "docker", progress);
  const imported = await importImageFromStore(engine, images.store, stored.ref ?? stored.manifestDigest, progress);
  return imported.imageId;
}
