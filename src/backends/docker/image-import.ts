import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import { saveDockerArchive } from "../../oci/archive/save.ts";
import { type Digest, shortDigest } from "../../oci/spec/digest.ts";
import { tryParseReference } from "../../oci/spec/reference.ts";
import type { ContentStore } from "../../oci/store/index.ts";
import { type DockerEngine, seg } from "./engine.ts";

/**
 * Puts an image of the shed store into the Docker engine: a docker-archive (the `docker
 * save` format, which Engine API 1.41 loads; it takes no OCI layouts) is streamed from the
 * store's blobs into `POST /images/load`, never staged on disk. The engine's image id is the
 * config digest, so an image loaded before is found by id and not sent again.
 */
export interface ImportedImage {
  /** What to create containers from: `sha256:<config digest>`, the engine's image id. */
  imageId: Digest;
  /** The tag the engine knows it by (familiar form), when the store ref has one. */
  tag?: string;
  /** False when the engine already had it. */
  loaded: boolean;
}

export async function importImageFromStore(
  engine: DockerEngine,
  store: ContentStore,
  ref: string,
  progress: Progress = () => {},
): Promise<ImportedImage> {
  const image = await store.resolve(ref);
  const imageId = image.configDigest;
  const parsed = image.ref ? tryParseReference(image.ref) : undefined;
  const tag = parsed?.tag ? parsed.withTag(parsed.tag).familiar() : undefined;

  if (await engine.imageExists(imageId)) {
    if (tag) await tagInEngine(engine, imageId, tag);
    progress({ id: "image", status: `in the Docker engine (${shortDigest(imageId)})` });
    return { imageId, ...(tag ? { tag } : {}), loaded: false };
  }

  const archive = await saveDockerArchive(store, [image.ref ?? image.manifestDigest]);
  progress({ id: "image", status: "loading into the Docker engine", current: 0, total: archive.size });
  let sent = 0;
  const counted = archive.stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctrl) {
        sent += chunk.byteLength;
        progress({ id: "image", status: "loading into the Docker engine", current: sent, total: archive.size });
        ctrl.enqueue(chunk);
      },
    }),
  );
  const res = await engine.request("POST", "/images/load", {
    query: { quiet: "1" },
    raw: counted,
    headers: { "content-type": "application/x-tar", "content-length": String(archive.size) },
  });
  const text = await res.text();
  if (!res.ok) throw new ShedError("BACKEND_UNAVAILABLE", `the Docker engine refused the image ${ref}: ${engineMessage(text)} (HTTP ${res.status})`);
  // The engine answers 200 with a JSON-lines body; failures are lines with "error".
  for (const line of text.split("\n").filter(Boolean)) {
    const msg = (() => {
      try {
        return JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
      } catch {
        return {};
      }
    })();
    if (msg.error || msg.errorDetail) {
      throw new ShedError("BACKEND_UNAVAILABLE", `the Docker engine could not load the image ${ref}: ${msg.errorDetail?.message ?? msg.error}`);
    }
  }
  if (!(await engine.imageExists(imageId))) {
    throw new ShedError("BACKEND_UNAVAILABLE", `the Docker engine loaded ${ref} but has no image ${imageId} afterwards`);
  }
  progress({ id: "image", status: `loaded into the Docker engine (${shortDigest(imageId)})`, current: archive.size, total: archive.size });
  return { imageId, ...(tag ? { tag } : {}), loaded: true };
}

async function tagInEngine(engine: DockerEngine, imageId: string, tag: string): Promise<void> {
  const colon = tag.lastIndexOf(":");
  const res = await engine.request("POST", `/images/${seg(imageId)}/tag`, {
    query: { repo: tag.slice(0, colon), tag: tag.slice(colon + 1) },
  });
  await res.body?.cancel();
}

function engineMessage(text: string): string {
  try {
    return (JSON.parse(text) as { message?: string }).message ?? text.trim();
  } catch {
    return text.trim().slice(0, 300);
  }
}
