import { closeSync, openSync, readSync } from "node:fs";
import * as v from "valibot";
import { ShedError } from "../../api/errors.ts";
import { formatIssues } from "../../api/validation.ts";
import type { Digest } from "../spec/digest.ts";
import { parseConfig } from "../spec/manifest.ts";
import { MediaType } from "../spec/media-types.ts";
import { tryParseReference } from "../spec/reference.ts";
import type { ContentStore } from "../store/index.ts";
import type { LoadedImage } from "./load.ts";

/**
 * docker-archive (`docker save`): manifest.json lists, per image, its config file, its layer
 * tars (bottom first) and its tags. Each image becomes an OCI manifest in the store over the
 * same config and layer bytes, as `skopeo copy docker-archive:... oci:...` does.
 */
const DockerArchiveManifestSchema = v.array(
  v.looseObject({
    Config: v.string(),
    RepoTags: v.optional(v.nullable(v.array(v.string()))),
    Layers: v.array(v.string()),
  }),
);

export async function dockerArchiveImages(
  store: ContentStore,
  manifestJson: Uint8Array,
  resolveLink: (name: string) => string,
  small: Map<string, Uint8Array>,
  fileDigest: (name: string) => Promise<Digest | undefined>,
): Promise<LoadedImage[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(manifestJson));
  } catch (err) {
    throw new ShedError("INVALID_REQUEST", `the archive's manifest.json is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = v.safeParse(DockerArchiveManifestSchema, doc);
  if (!parsed.success) throw new ShedError("INVALID_REQUEST", `the archive's manifest.json is malformed: ${formatIssues(parsed.issues)}`);
  if (parsed.output.length === 0) throw new ShedError("INVALID_REQUEST", "the archive's manifest.json lists no images");

  const images: LoadedImage[] = [];
  for (const item of parsed.output) {
    const configBytes = small.get(resolveLink(item.Config));
    if (!configBytes) throw new ShedError("INVALID_REQUEST", `the archive lacks ${item.Config}, the config its manifest.json names`);
    const config = parseConfig(configBytes, item.Config);
    const configInfo = await store.putBlob(configBytes);
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== item.Layers.length) {
      throw new ShedError(
        "INVALID_REQUEST",
        `${item.Config} lists ${diffIds.length} layer diff ids but manifest.json lists ${item.Layers.length} layers`,
      );
    }
    const layers: { mediaType: string; digest: Digest; size: number }[] = [];
    for (const [i, name] of item.Layers.entries()) {
      const digest = await fileDigest(name);
      if (!digest) throw new ShedError("INVALID_REQUEST", `the archive lacks ${name}, a layer its manifest.json names`);
      const mediaType = layerMediaType(store.blobPath(digest));
      if (mediaType === MediaType.ociLayer && digest !== diffIds[i]) {
        throw new ShedError(
          "DIGEST_MISMATCH",
          `layer ${name} has digest ${digest} but the image config says ${diffIds[i]}; the archive is corrupt and was not loaded`,
        );
      }
      layers.push({ mediaType, digest, size: store.blobSize(digest)! });
    }
    // Field order as Go's encoder writes an OCI manifest, so the digest matches other tools'.
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configInfo.digest, size: configInfo.size },
      layers,
    };
    const bytes = new TextEncoder().encode(JSON.stringify(manifest));
    const info = await store.putManifest(bytes, MediaType.ociManifest);
    const tags = (item.RepoTags ?? []).map((t) => tryParseReference(t)).filter((r) => r && !r.digest);
    if (tags.length === 0) images.push({ digest: info.digest });
    for (const t of tags) images.push({ digest: info.digest, ref: t!.toString() });
  }
  return images;
}

/** docker save writes plain tars; newer engines may write compressed ones: look at the magic. */
function layerMediaType(path: string): string {
  const fd = openSync(path, "r");
  const head = Buffer.alloc(4);
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return MediaType.ociLayerGzip;
  if (head.readUInt32LE(0) === 0xfd2fb528) return MediaType.ociLayerZstd;
  return MediaType.ociLayer;
}
