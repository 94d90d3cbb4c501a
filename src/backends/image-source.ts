import type { Progress } from "../api/schemas/shed.ts";
import { type ErofsCompression, ensureRootfs, type RootfsImage, readImageFile } from "../oci/rootfs/index.ts";
import type { Digest } from "../oci/spec/digest.ts";
import type { ContentStore, StoredImage } from "../oci/store/index.ts";

/**
 * How every backend gets its images, the same way: a ref (an alias, `name:tag`, a digest, or
 * an OCI layout on disk as `oci:/path/to/layout[:name]`) becomes an image in the server's
 * content store, pulled per the backend's `pull_policy`; from there a VM backend takes the
 * flattened erofs root and single files (kernel, initramfs) through the checked layer path,
 * and a container backend reads the blobs (src/backends/docker/image-import.ts). Each backend
 * gets its own source, bound to its config section (aliases, pull_policy).
 */
export interface ImageSource {
  /** The ref an input stands for: the backend's image_aliases, the built-in ones, `{version}`. */
  expand(input: string): string;
  /** The image in the store; IMAGE_NOT_FOUND (saying how to get it) when it is not there and not pulled. */
  resolve(input: string, progress: Progress): Promise<StoredImage>;
  /** The content store itself, for a backend that reads blobs (read-only). */
  readonly store: ContentStore;
  /** The image's flattened read-only root as one erofs file, built once per manifest (and compression). */
  rootfs(image: StoredImage, opts: { compression?: ErofsCompression; progress?: Progress }): Promise<RootfsImage>;
  /** A regular file of the image as its root has it (a file deleted by a higher layer is not found). */
  file(image: StoredImage, path: string, maxBytes: number): Promise<Uint8Array | undefined>;
}

/**
 * An image source over a content store: `expand` and `resolve` are the caller's (the server's
 * aliases and pull policy; a bench's own), the rest is the OCI module's checked code.
 */
export function storeImageSource(opts: {
  store: ContentStore;
  /** Where erofs roots are cached (`<stateDir>/rootfs/`). */
  stateDir: string;
  /** How roots are compressed when the caller does not say (server.yaml rootfs_compression). */
  compression?: ErofsCompression;
  expand?: (input: string) => string;
  resolve: (input: string, progress: Progress) => Promise<StoredImage>;
}): ImageSource {
  const { store, stateDir } = opts;
  return {
    store,
    expand: opts.expand ?? ((input) => input),
    resolve: opts.resolve,
    rootfs: (image, { compression = opts.compression, progress } = {}) =>
      ensureRootfs(store, image.manifestDigest, { stateDir, ...(compression ? { compression } : {}), ...(progress ? { progress } : {}) }),
    file: (image, path, maxBytes) =>
      readImageFile(
        image.layers.map((l) => ({ digest: l.digest, size: l.size, open: () => store.openBlob(l.digest as Digest) })),
        path,
        maxBytes,
      ),
  };
}
