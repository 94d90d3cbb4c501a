import type { ImageHistory, ImageHistoryEntry, ImageInspect, ImageSummary } from "../../api/schemas/image.ts";
import { uniqueDescriptors } from "../spec/manifest.ts";
import { formatPlatform, normalizePlatform } from "../spec/platform.ts";
import { tryParseReference } from "../spec/reference.ts";
import type { StoredImage } from "../store/index.ts";
import type { ContentStore } from "../store/index.ts";

/** What `image ls`, `history` and `inspect` show, read from the store. */

/** `configRefs`: full refs the server config names, with the alias names that point at each. */
export async function listImages(store: ContentStore, configRefs: Map<string, string[]>): Promise<ImageSummary[]> {
  const out: ImageSummary[] = [];
  for (const e of store.list()) {
    const image = await store.tryResolve(e.digest).catch(() => undefined);
    const aliases = e.ref ? configRefs.get(e.ref) : undefined;
    out.push({
      ...(e.ref ? { ref: e.ref, name: tryParseReference(e.ref)?.familiar() ?? e.ref } : {}),
      digest: e.digest,
      size: image ? imageSize(image) : e.size,
      source: !e.ref ? "dangling" : configRefs.has(e.ref) ? "config" : "user",
      ...(image?.config.created ? { created: image.config.created } : {}),
      ...(e.addedAt ? { addedAt: e.addedAt } : {}),
      origin: e.origin,
      ...(platformOf(image, e.platform) ? { platform: platformOf(image, e.platform)! } : {}),
      ...(aliases && aliases.length > 0 ? { aliases } : {}),
    });
  }
  return out.sort((a, b) => (a.name ?? "~").localeCompare(b.name ?? "~") || a.digest.localeCompare(b.digest));
}

export function imageSize(image: StoredImage): number {
  return image.manifestSize + uniqueDescriptors([image.manifest.config, ...image.layers]).reduce((n, d) => n + d.size, 0);
}

export function imageHistory(image: StoredImage): ImageHistory {
  const steps = image.config.history ?? [];
  const entries: ImageHistoryEntry[] = [];
  let layer = 0;
  for (const h of steps) {
    const empty = h.empty_layer === true;
    const desc = empty ? undefined : image.layers[layer++];
    entries.push({
      ...(h.created ? { created: h.created } : {}),
      ...(h.created_by ? { createdBy: h.created_by } : {}),
      ...(h.comment ? { comment: h.comment } : {}),
      size: desc?.size ?? 0,
      ...(desc ? { layer: desc.digest } : {}),
      emptyLayer: empty,
    });
  }
  // Layers the history does not mention (images built without history) still show.
  for (; layer < image.layers.length; layer++) {
    const desc = image.layers[layer]!;
    entries.push({ size: desc.size, layer: desc.digest, emptyLayer: false });
  }
  return { ...(image.ref ? { ref: image.ref } : {}), digest: image.manifestDigest, history: entries.reverse() };
}

export function inspectImage(store: ContentStore, image: StoredImage): ImageInspect {
  const refs = store
    .list()
    .filter((e) => e.digest === image.manifestDigest && e.ref)
    .map((e) => e.ref!);
  const platform = platformOf(image, undefined);
  return {
    ...(image.ref ? { ref: image.ref } : {}),
    refs,
    digest: image.manifestDigest,
    mediaType: image.manifestMediaType,
    size: imageSize(image),
    ...(platform ? { platform } : {}),
    ...(image.config.created ? { created: image.config.created } : {}),
    annotations: image.manifest.annotations ?? {},
    manifest: image.manifest,
    config: image.config,
    configDigest: image.configDigest,
    layers: image.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType })),
  };
}

function platformOf(image: StoredImage | undefined, fromIndex: { os: string; architecture: string; variant?: string } | undefined): string | undefined {
  const p = fromIndex ?? (image?.config.os && image.config.architecture ? { os: image.config.os, architecture: image.config.architecture, ...(image.config.variant ? { variant: image.config.variant } : {}) } : undefined);
  return p ? formatPlatform(normalizePlatform(p)) : undefined;
}
