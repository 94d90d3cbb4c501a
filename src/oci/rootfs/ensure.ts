import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Progress } from "../../api/schemas/shed.ts";
import { type Logger, silentLogger } from "../../log/logger.ts";
import { ShedError } from "../../api/errors.ts";
import { parseDigest } from "../spec/digest.ts";
import { layerCompression } from "../spec/media-types.ts";
import type { ContentStore } from "../store/index.ts";
import type { DevicePolicy } from "./apply-layer.ts";
import { type ErofsCompression, looksLikeErofs, packErofs, uuidFromDigest } from "./erofs.ts";
import { flattenLayers, type LayerInput } from "./flatten.ts";
import type { SymlinkPolicy } from "./safe-tree.ts";
import { processAlive } from "../../proc/alive.ts";
import { fsyncPath } from "../../fs/atomic-file.ts";

/** What ensureRootfs needs of the content store (the OciStore has it all). */
export type RootfsStore = Pick<ContentStore, "resolve" | "openBlob"> & {
  /** The store's prune lock: held shared while layers are read, so prune never sweeps them. */
  sweep?: { withShared<T>(fn: () => Promise<T>): Promise<T> };
};

export interface EnsureRootfsOptions {
  /** The server's state dir: images go to `<stateDir>/rootfs/`. */
  stateDir: string;
  /** Default lz4hc; "none" gets its own cache file (`<digest>-none.erofs`). */
  compression?: ErofsCompression;
  symlinks?: SymlinkPolicy;
  devices?: DevicePolicy;
  maxLayerBytes?: number;
  progress?: Progress;
  logger?: Logger;
}

export interface RootfsImage {
  /** The erofs image file (read-only: shared by every shed of the image). */
  path: string;
  /** Manifest digest of the image it was built from. */
  digest: string;
  /** Bytes of the erofs file. */
  size: number;
  /** True when it was already built. */
  cached: boolean;
}

/** Builds in flight in this process, by output path: concurrent requests share one build. */
const building = new Map<string, Promise<RootfsImage>>();
const sweptTmp = new Set<string>();

/** Where the erofs image of a manifest lives (a colon in a file name trips QEMU's -drive syntax). */
export function rootfsPath(stateDir: string, manifestDigest: string, compression: ErofsCompression = "lz4hc"): string {
  const base = manifestDigest.replace(":", "-");
  return join(stateDir, "rootfs", compression === "lz4hc" ? `${base}.erofs` : `${base}-${compression}.erofs`);
}

/**
 * The image's flattened root filesystem as an erofs file, built on first use and cached by
 * manifest digest under `<stateDir>/rootfs/`. The build happens in a private temp dir and the
 * result is renamed into place after an fsync, so a file at the final path is always complete
 * (a crash leaves only temp files, swept on the next build). Throws IMAGE_NOT_FOUND for an
 * unknown ref, INVALID_LAYER (naming layer and entry) for a malformed or hostile layer.
 */
export async function ensureRootfs(store: RootfsStore, refOrDigest: string, opts: EnsureRootfsOptions): Promise<RootfsImage> {
  const image = await store.resolve(refOrDigest);
  const digest = image.manifestDigest;
  const path = rootfsPath(opts.stateDir, digest, opts.compression);
  if (looksLikeErofs(path)) return { path, digest, size: statSync(path).size, cached: true };
  let pending = building.get(path);
  if (!pending) {
    for (const l of image.layers) {
      if (layerCompression(l.mediaType) === undefined) {
        throw new ShedError(
          "UNSUPPORTED",
          `image "${refOrDigest}" has a layer ${l.digest} of type ${l.mediaType}, which is not a filesystem layer (tar, tar+gzip, tar+zstd): it cannot become a root filesystem`,
        );
      }
    }
    const layers: LayerInput[] = image.layers.map((l) => ({
      digest: l.digest,
      mediaType: l.mediaType,
      size: l.size,
      open: () => store.openBlob(parseDigest(l.digest, `the layers of ${digest}`)),
    }));
    const run = () => build(layers, digest, path, opts);
    pending = (store.sweep ? store.sweep.withShared(run) : run()).finally(() => building.delete(path));
    building.set(path, pending);
  }
  return pending;
}

async function build(layers: LayerInput[], digest: string, path: string, opts: EnsureRootfsOptions): Promise<RootfsImage> {
  const dir = join(opts.stateDir, "rootfs");
  const tmpRoot = join(dir, "tmp");
  mkdirSync(tmpRoot, { recursive: true, mode: 0o700 });
  sweepStale(tmpRoot);
  // Private (0700): the tree holds the image's setuid files and device nodes until packed.
  const work = join(tmpRoot, `${digest.replace(/^sha256:/, "").slice(0, 16)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(work, { mode: 0o700 });
  chmodSync(work, 0o700);
  const progress = opts.progress ?? (() => {});
  const logger = opts.logger ?? silentLogger;
  try {
    const started = performance.now();
    const stats = await flattenLayers(layers, join(work, "tree"), {
      symlinks: opts.symlinks,
      devices: opts.devices,
      maxLayerBytes: opts.maxLayerBytes,
      progress,
      logger,
    });
    progress({ id: "rootfs", status: "packing the erofs root filesystem" });
    const out = join(work, "rootfs.erofs");
    await packErofs(join(work, "tree"), out, { compression: opts.compression, uuid: uuidFromDigest(digest) });
    const fd = openSync(out, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(out, 0o644);
    renameSync(out, path);
    fsyncPath(dir);
    const size = statSync(path).size;
    logger.info("rootfs built", { digest, path, size, entries: stats.entries, ms: Math.round(performance.now() - started) });
    progress({ id: "rootfs", status: "ready" });
    return { path, digest, size, cached: false };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Temp dirs of builds whose process is gone (a crash, a kill) are removed once per process. */
function sweepStale(tmpRoot: string): void {
  if (sweptTmp.has(tmpRoot)) return;
  sweptTmp.add(tmpRoot);
  for (const name of readdirSync(tmpRoot)) {
    const pid = Number(name.split(".")[1]);
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) rmSync(join(tmpRoot, name), { recursive: true, force: true });
  }
}


/**
 * Removes cached root filesystems of manifests not in `keep` (for `image prune`); returns the
 * removed paths. A build in flight is never touched.
 */
export function pruneRootfs(stateDir: string, keep: ReadonlySet<string>): string[] {
  const dir = join(stateDir, "rootfs");
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const m = /^(sha256)-([a-f0-9]{64})(?:-[a-z0-9]+)?\.erofs$/.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    if (keep.has(`${m[1]}:${m[2]}`) || building.has(path)) continue;
    rmSync(path, { force: true });
    removed.push(path);
  }
  return removed;
}
