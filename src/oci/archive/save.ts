import { ShedError } from "../../api/errors.ts";
import { type Digest, digestHex } from "../spec/digest.ts";
import { MediaType } from "../spec/media-types.ts";
import { parseReference } from "../spec/reference.ts";
import type { StoredImage } from "../store/index.ts";
import type { ContentStore } from "../store/index.ts";
import { type TarWriteEntry, tarStream } from "../../tar/writer.ts";

/**
 * Archives of images from the store, streamed (never staged on disk):
 * - `saveOciArchive`: a tar of an OCI image layout (what `skopeo copy ... oci-archive:` reads),
 *   byte-exact blobs, so digests survive a save/load round trip;
 * - `saveDockerArchive`: the `docker save` format, which Docker Engine API 1.41 loads.
 */
export interface ArchiveContents {
  stream: ReadableStream<Uint8Array>;
  /** Exact byte length of the stream (Content-Length). */
  size: number;
}

export async function saveOciArchive(store: ContentStore, refs: string[]): Promise<ArchiveContents> {
  const images = await resolveAll(store, refs);
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: images.map((img) => ({
      mediaType: img.manifestMediaType,
      digest: img.manifestDigest,
      size: img.manifestSize,
      ...(img.ref ? { annotations: refAnnotations(img.ref) } : {}),
    })),
  };
  const blobs = new Map<Digest, number>();
  for (const img of images) {
    blobs.set(img.manifestDigest, img.manifestSize);
    blobs.set(img.configDigest, img.manifest.config.size);
    for (const l of img.layers) blobs.set(l.digest as Digest, l.size);
  }
  const entries: TarWriteEntry[] = [
    { name: "oci-layout", type: "file", data: new TextEncoder().encode('{"imageLayoutVersion":"1.0.0"}') },
    { name: "index.json", type: "file", data: new TextEncoder().encode(JSON.stringify(index)) },
    { name: "blobs", type: "dir" },
    { name: "blobs/sha256", type: "dir" },
    ...[...blobs].map(([digest, size]) => blobEntry(store, `blobs/sha256/${digestHex(digest)}`, digest, size)),
  ];
  return { stream: tarStream(entries), size: tarSize(entries) };
}

export async function saveDockerArchive(store: ContentStore, refs: string[]): Promise<ArchiveContents> {
  const images = await resolveAll(store, refs);
  const files = new Map<string, { digest: Digest; size: number }>();
  const manifest = images.map((img) => {
    const config = `${digestHex(img.configDigest)}.json`;
    files.set(config, { digest: img.configDigest, size: img.manifest.config.size });
    const layers = img.layers.map((l) => {
      const name = `${digestHex(l.digest as Digest)}/layer.tar`;
      files.set(name, { digest: l.digest as Digest, size: l.size });
      return name;
    });
    const ref = img.ref ? parseReference(img.ref) : undefined;
    return { Config: config, RepoTags: ref?.tag ? [ref.familiar()] : null, Layers: layers };
  });
  const dirs = new Set([...files.keys()].filter((n) => n.includes("/")).map((n) => n.slice(0, n.indexOf("/"))));
  const entries: TarWriteEntry[] = [
    ...[...dirs].map((d): TarWriteEntry => ({ name: d, type: "dir" })),
    ...[...files].map(([name, f]) => blobEntry(store, name, f.digest, f.size)),
    { name: "manifest.json", type: "file", data: new TextEncoder().encode(JSON.stringify(manifest)) },
  ];
  return { stream: tarStream(entries), size: tarSize(entries) };
}

async function resolveAll(store: ContentStore, refs: string[]): Promise<StoredImage[]> {
  if (refs.length === 0) throw new ShedError("INVALID_REQUEST", "name at least one image to save");
  const images = await Promise.all(refs.map((r) => store.resolve(r)));
  for (const img of images) {
    for (const d of [img.manifest.config, ...img.layers]) {
      if (!store.hasBlob(d.digest as Digest)) {
        throw new ShedError("IMAGE_NOT_FOUND", `blob ${d.digest} of image "${img.ref ?? img.manifestDigest}" is missing from the store; pull the image again`);
      }
    }
  }
  return images;
}

function blobEntry(store: ContentStore, name: string, digest: Digest, size: number): TarWriteEntry {
  return { name, type: "file", size, data: () => store.openBlob(digest) };
}

/** containerd's convention (also docker 25+'s): the full name, and the tag as ref.name. */
function refAnnotations(ref: string): Record<string, string> {
  const parsed = parseReference(ref);
  return {
    "io.containerd.image.name": parsed.toString(),
    "org.opencontainers.image.ref.name": parsed.tag ?? "latest",
  };
}

/** The byte length tarStream will produce (headers, padded data, end blocks). */
function tarSize(entries: TarWriteEntry[]): number {
  let total = 1024;
  for (const e of entries) {
    const name = e.type === "dir" ? `${e.name}/` : e.name;
    const size = e.type === "dir" ? 0 : e.data instanceof Uint8Array ? e.data.byteLength : (e.size ?? 0);
    if (new TextEncoder().encode(name).byteLength > 100 || size > 0o77777777777) {
      throw new ShedError("INTERNAL", `archive entry ${name} needs a PAX header; not expected for image archives`);
    }
    total += 512 + Math.ceil(size / 512) * 512;
  }
  return total;
}
