/**
 * # Images as root filesystems
 *
 * `ensureRootfs(store, ref, opts)` gives an image's flattened, read-only root filesystem as
 * one erofs file per manifest (`<state_dir>/rootfs/sha256-<hex>.erofs`), built on first use:
 * layers applied in order with OCI whiteouts into a private temp dir by `flattenLayers`
 * (extraction cannot leave that dir: safe-tree.ts), then packed with mkfs.erofs.
 * The writable upper disk of a VM shed is src/backends/vm-boot/upper-disk.ts.
 */
export type { DevicePolicy } from "./apply-layer.ts";
export { type EnsureRootfsOptions, ensureRootfs, pruneRootfs, type RootfsImage, type RootfsStore, rootfsPath } from "./ensure.ts";
export { type ErofsCompression, looksLikeErofs, packErofs } from "./erofs.ts";
export { type FlattenOptions, type FlattenStats, flattenLayers, type LayerInput } from "./flatten.ts";
export { readImageFile } from "./image-file.ts";
export { LayerError } from "./layer-error.ts";
export type { SymlinkPolicy } from "./safe-tree.ts";
