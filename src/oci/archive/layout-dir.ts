import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import type { Digest } from "../spec/digest.ts";
import { MediaType } from "../spec/media-types.ts";
import { type TarWriteEntry, tarStream } from "./tar-writer.ts";

/** An image in an OCI image layout on disk: what it takes to copy it into the store. */
export interface LayoutImage {
  /** The layout's directory and the ref inside it (for a tag in the store). */
  dir: string;
  name?: string;
  manifestDigest: Digest;
  manifest: Uint8Array;
  mediaType: string;
  /** Config and layers, each with the file that holds it. */
  blobs: { digest: Digest; size: number; path: string }[];
}

/**
 * Images given as an OCI image layout on disk, in skopeo's syntax: `oci:/path/to/layout[:ref]`
 * (what guest/build writes). Undefined for any other ref.
 */
export function readLayoutRef(ref: string): LayoutImage | undefined {
  if (!ref.startsWith("oci:")) return undefined;
  return readLayout(ref.slice(4), ref);
}

/** `dir[:name]`: the image named `name` in the layout at `dir` (the only one when no name). */
export function readLayout(spec: string, ref = `oci:${spec}`): LayoutImage {
  const colon = spec.indexOf(":");
  const dir = colon >= 0 ? spec.slice(0, colon) : spec;
  const name = colon >= 0 ? spec.slice(colon + 1) : undefined;
  const indexFile = join(dir, "index.json");
  if (!existsSync(indexFile)) {
    throw new ShedError("IMAGE_NOT_FOUND", `no OCI image layout at ${dir} (no index.json) for image "${ref}"`);
  }
  const index = JSON.parse(readFileSync(indexFile, "utf8")) as {
    manifests: { digest: string; mediaType?: string; annotations?: Record<string, string> }[];
  };
  const entry = name
    ? index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === name)
    : index.manifests.length === 1
      ? index.manifests[0]
      : undefined;
  if (!entry) {
    throw new ShedError("IMAGE_NOT_FOUND", `image "${ref}": no ${name ? `ref ${name}` : "single image"} in the layout ${dir}`);
  }
  const blob = (d: string) => join(dir, "blobs", "sha256", d.replace(/^sha256:/, ""));
  const manifest = readFileSync(blob(entry.digest));
  const parsed = JSON.parse(manifest.toString("utf8")) as {
    mediaType?: string;
    config: { digest: string; size: number };
    layers: { digest: string; size: number }[];
  };
  return {
    dir,
    name,
    manifestDigest: entry.digest as Digest,
    manifest,
    mediaType: entry.mediaType ?? parsed.mediaType ?? MediaType.ociManifest,
    blobs: [parsed.config, ...parsed.layers].map((d) => ({ digest: d.digest as Digest, size: d.size, path: blob(d.digest) })),
  };
}

/** The image as an OCI archive (a tar of a layout holding just it), for an image load. */
export function layoutArchive(image: LayoutImage, refName?: string): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [
      {
        mediaType: image.mediaType,
        digest: image.manifestDigest,
        size: image.manifest.byteLength,
        ...(refName ? { annotations: { "org.opencontainers.image.ref.name": refName } } : {}),
      },
    ],
  };
  const blob = (digest: string) => `blobs/sha256/${digest.replace(/^sha256:/, "")}`;
  const entries: TarWriteEntry[] = [
    { name: "oci-layout", type: "file", data: enc.encode('{"imageLayoutVersion":"1.0.0"}') },
    { name: "index.json", type: "file", data: enc.encode(JSON.stringify(index)) },
    { name: "blobs", type: "dir" },
    { name: "blobs/sha256", type: "dir" },
    { name: blob(image.manifestDigest), type: "file", data: image.manifest },
    ...image.blobs.map(
      (b): TarWriteEntry => ({ name: blob(b.digest), type: "file", size: b.size, data: () => Bun.file(b.path).stream() }),
    ),
  ];
  return tarStream(entries);
}
