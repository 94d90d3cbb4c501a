import { chmodSync, chownSync, lutimesSync, mkdirSync, readdirSync } from "node:fs";
import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import { type Logger, silentLogger } from "../../log/logger.ts";
import { type DevicePolicy, type DirTimes, LayerApplier } from "./apply-layer.ts";
import { LimitExceeded, layerTarBytes } from "./decompress.ts";
import { LayerError, printable } from "./layer-error.ts";
import { SafeTree, type SymlinkPolicy, UnsafeEntry } from "./safe-tree.ts";
import { TarFormatError, TarParser } from "../../tar/parser.ts";

/** One layer blob, bottom first: a tar, plain or gzip/zstd-compressed (sniffed from its bytes). */
export interface LayerInput {
  digest: string;
  mediaType?: string;
  /** Compressed size, for progress. */
  size?: number;
  open(): ReadableStream<Uint8Array> | Promise<ReadableStream<Uint8Array>>;
}

export interface FlattenOptions {
  /** Paths through symlinks: resolved inside the root (default, as containerd) or refused. */
  symlinks?: SymlinkPolicy;
  /** Device nodes: created (default; needs root), skipped, or refused. */
  devices?: DevicePolicy;
  /** Most uncompressed tar bytes accepted per layer (default 64 GiB). */
  maxLayerBytes?: number;
  /** Most entries accepted per layer (default 10 million). */
  maxEntries?: number;
  progress?: Progress;
  logger?: Logger;
  signal?: AbortSignal;
}

export interface FlattenStats {
  layers: number;
  entries: number;
  /** File content bytes written. */
  bytes: number;
  skippedDevices: number;
  droppedXattrs: number;
}

const DEFAULT_MAX_LAYER_BYTES = 64 * 1024 ** 3;

/**
 * Applies an image's layers, bottom first, into `dir` (made here: it must not exist, or be
 * empty), giving the image's root filesystem. Throws LayerError (INVALID_LAYER) naming the
 * layer and entry for anything malformed or unsafe; the caller then discards `dir`, which
 * never has anything of the image outside it.
 */
export async function flattenLayers(layers: readonly LayerInput[], dir: string, opts: FlattenOptions = {}): Promise<FlattenStats> {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (readdirSync(dir).length > 0) throw new ShedError("INTERNAL", `flattenLayers: ${dir} is not empty`);
  // An image that never mentions its root gets the conventional root:root 0755.
  chownSync(dir, 0, 0);
  chmodSync(dir, 0o755);
  const tree = new SafeTree(dir, opts.symlinks ?? "confine");
  const dirTimes: DirTimes = new Map();
  const policy = { devices: opts.devices ?? "allow", logger: opts.logger ?? silentLogger };
  const stats: FlattenStats = { layers: 0, entries: 0, bytes: 0, skippedDevices: 0, droppedXattrs: 0 };
  const progress = opts.progress ?? (() => {});

  for (const [i, layer] of layers.entries()) {
    opts.signal?.throwIfAborted();
    const applier = new LayerApplier(tree, policy, dirTimes);
    const parser = new TarParser(applier, { maxEntries: opts.maxEntries });
    const id = layer.digest;
    const status = `applying layer ${i + 1}/${layers.length}`;
    let lastReport = 0;
    progress({ id, status, current: 0, total: layer.size });
    try {
      const blob = await layer.open();
      const bytes = layerTarBytes(blob, {
        maxBytes: opts.maxLayerBytes ?? DEFAULT_MAX_LAYER_BYTES,
        onCompressed: (n) => {
          if (n - lastReport >= 4 << 20) {
            lastReport = n;
            progress({ id, status, current: n, total: layer.size });
          }
        },
      });
      for await (const chunk of bytes) {
        parser.write(chunk);
        if (opts.signal?.aborted) break;
      }
      opts.signal?.throwIfAborted();
      parser.end();
    } catch (err) {
      applier.abort();
      throw asLayerError(err, layer.digest, applier.currentEntry);
    }
    stats.layers++;
    stats.entries += applier.entries;
    stats.bytes += applier.bytes;
    stats.skippedDevices += applier.skippedDevices;
    stats.droppedXattrs += applier.droppedXattrs;
    progress({ id, status: "applied", current: layer.size, total: layer.size });
  }

  // Directory times last: everything written below a directory moved its mtime.
  for (const [rel, [atime, mtime]] of dirTimes) {
    if (tree.lstat(rel)?.isDirectory()) lutimesSync(tree.abs(rel), atime, mtime);
  }
  return stats;
}

function asLayerError(err: unknown, layer: string, entry: string | undefined): Error {
  if (err instanceof LayerError || (err instanceof ShedError && err.code !== "INTERNAL")) return err;
  if (err instanceof UnsafeEntry) return new LayerError(layer, entry, err.reason, { cause: err });
  // A format error is about the header being read, not the entry before it.
  if (err instanceof TarFormatError) return new LayerError(layer, err.entry, err.reason, { cause: err });
  if (err instanceof LimitExceeded) return new LayerError(layer, entry, err.message, { cause: err });
  const e = err as NodeJS.ErrnoException;
  if (e?.name === "AbortError") return err as Error;
  if (e?.code === "ENOSPC" || e?.code === "EDQUOT") {
    return new ShedError("STORAGE_FULL", `no space left while unpacking layer ${layer} (entry "${printable(entry ?? "")}"): free disk space in the state directory and retry`, {
      cause: err,
    });
  }
  if (e?.code === "Z_DATA_ERROR" || e?.code === "Z_BUF_ERROR" || /zstd|incorrect header|invalid|unexpected end/i.test(e?.message ?? "")) {
    return new LayerError(layer, entry, `the compressed data is corrupt (${e.message})`, { cause: err });
  }
  if (e?.code === "ENAMETOOLONG" || e?.code === "EILSEQ") {
    return new LayerError(layer, entry, `the name cannot be created here (${e.code})`, { cause: err });
  }
  return new ShedError("INTERNAL", `unpacking layer ${layer} failed at entry "${printable(entry ?? "")}": ${e?.message ?? String(err)}`, { cause: err });
}
