/**
 * # The shed content store
 *
 * An OCI image layout under `<state_dir>/images` that any OCI tool can read
 * (`skopeo inspect oci:<state_dir>/images:<ref>`):
 *
 *   oci-layout                  {"imageLayoutVersion":"1.0.0"}
 *   index.json                  the ref index: one entry per ref, the ref in the annotation
 *                               `org.opencontainers.image.ref.name` (full normalised form,
 *                               `docker.io/library/busybox:latest`); entries without it are
 *                               dangling manifests (a tag moved away), kept until `prune`
 *   blobs/sha256/<hex>          manifests, configs and layers, exactly the bytes of their digest
 *   tmp/                        downloads in flight (`<hex>.partial`, resumed on the next pull)
 *
 * Every blob is installed atomically (temp file, fsync, rename, fsync dir) after its size and
 * digest are checked, so a blob file that exists is complete and correct. Concurrent puts of
 * the same digest are done once (per-digest lock). The ref index is rewritten atomically.
 *
 * Use from other modules (rootfs, build, backends): take a `ContentStore` (every function of
 * src/oci does), never paths of your own. `resolve(ref)` gives the image's manifest, config and layer descriptors; layer files are
 * `blobPath(layer.digest)` (read-only: never write to them), `openBlob` streams them. A build
 * puts its layers and config with `putBlob`, then its manifest with `putManifest`, then `tag`s it;
 * an archive (docker save / OCI) goes in with `loadArchive` from src/oci/archive.
 *
 * Types shared with the registry client (digests, manifests, references, platforms) are in
 * src/oci/spec/.
 */
import type { Digest } from "../spec/digest.ts";
import type { Descriptor, ImageConfig, ImageManifest, Platform } from "../spec/manifest.ts";
import type { BlobWriter } from "./blob-writer.ts";
import type { SweepLock } from "./locks.ts";

/** Where an image in the store came from (shown by `image ls` / `inspect`). */
export type ImageOrigin = "pull" | "load" | "build" | "tag";

/** One ref of the ref index (or a dangling manifest, `ref` undefined). */
export interface RefEntry {
  ref?: string;
  digest: Digest;
  mediaType: string;
  size: number;
  /** When the ref was set (ISO time). */
  addedAt: string;
  origin: ImageOrigin;
  platform?: Platform;
}

/** An image resolved from the store: everything needed to use its layers. */
export interface StoredImage {
  /** The full normalised ref it was found by; undefined when found by digest. */
  ref?: string;
  manifestDigest: Digest;
  manifestMediaType: string;
  manifestSize: number;
  manifest: ImageManifest;
  configDigest: Digest;
  config: ImageConfig;
  /** Layer descriptors, bottom first; each file is `blobPath(layer.digest)`. */
  layers: Descriptor[];
}

/** Bytes to store: in memory, a stream, or a file on disk (hard-linked when it can be). */
export type BlobSource = Uint8Array | ReadableStream<Uint8Array> | { path: string };

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export interface ContentStore {
  /** The layout's directory (`<state_dir>/images`). */
  readonly root: string;
  /** Path of a blob's file; it exists iff `hasBlob`. Read-only. */
  blobPath(digest: Digest): string;
  hasBlob(digest: Digest): boolean;
  /** The blob's bytes as a stream; IMAGE_NOT_FOUND when it is not in the store. */
  openBlob(digest: Digest): ReadableStream<Uint8Array>;
  /** A small blob (manifest, config) in memory, refused past `maxBytes` (default 8 MiB). */
  readBlob(digest: Digest, maxBytes?: number): Promise<Uint8Array>;
  /**
   * Stores a blob. With `expect`, the size and digest are checked before it is kept
   * (DIGEST_MISMATCH otherwise, nothing kept); STORAGE_FULL when the disk is full.
   */
  putBlob(source: BlobSource, expect?: Partial<BlobInfo>): Promise<BlobInfo>;
  /** Stores a manifest's exact bytes (its config and layers must be in the store already). */
  putManifest(bytes: Uint8Array, mediaType: string): Promise<BlobInfo>;
  /**
   * Finds an image by ref (`busybox`, `registry:5000/a/b:tag`, `...@sha256:...`), full digest
   * or unique digest prefix (12+ hex). IMAGE_NOT_FOUND when absent.
   */
  resolve(ref: string): Promise<StoredImage>;
  /** Like resolve, but undefined when absent. */
  tryResolve(ref: string): Promise<StoredImage | undefined>;
  /** Points a ref at a manifest in the store; the ref it replaces leaves its old manifest dangling. */
  tag(ref: string, manifestDigest: Digest, opts?: { origin?: ImageOrigin; platform?: Platform }): Promise<void>;
  /** Removes a ref; true when it existed. Blobs stay until `prune`. */
  untag(ref: string): Promise<boolean>;
  /** The ref index: tagged images and dangling manifests. */
  list(): RefEntry[];

  // What the image operations (pull, load, prune) need beyond the above.
  /** Shared by everything that adds blobs; prune takes it exclusively. */
  readonly sweep: SweepLock;
  /** Where downloads in flight live (`<hex>.partial`, resumed by the next pull). */
  readonly tmpDir: string;
  blobSize(digest: Digest): number | undefined;
  /**
   * Writes a blob through `fill` and keeps it once its size and digest are right; concurrent
   * calls for one digest share a single write; `resume` continues a `.partial` download.
   */
  ingest(
    expect: BlobInfo,
    where: string,
    fill: (writer: BlobWriter) => Promise<void>,
    opts?: { resume?: boolean },
  ): Promise<BlobInfo & { existed: boolean }>;
  /** The index entry (or bare digest) a user's string names, without reading blobs. */
  lookup(input: string): { digest: Digest; ref?: string; mediaType?: string } | undefined;
  /** Lists a manifest with no ref (an untagged image that was loaded). */
  addUntagged(manifestDigest: Digest, origin: ImageOrigin): Promise<void>;
  /** Removes every ref of a manifest and its dangling entry; how many went. */
  removeDigest(digest: Digest): number;
  /** Blobs on disk (for prune). */
  allBlobs(): BlobInfo[];
  /** A manifest by digest, parsed once. */
  manifestOf(digest: Digest): Promise<ImageManifest>;
}

export { loadArchive } from "../archive/load.ts";
export { importLayoutRef, isLayoutRef, resolveLayoutRef } from "./layout-ref.ts";
export { openContentStore, openLayout, OciStore } from "./layout.ts";
