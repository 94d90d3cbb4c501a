import { closeSync, openSync, readSync } from "node:fs";
import { ShedError } from "../../api/errors.ts";

/**
 * erofs compression: lz4hc (default: about half the size, decompression is cheap on real
 * CPUs) or none (under emulation, TCG, the guest pays for every decompression).
 */
export type ErofsCompression = "lz4hc" | "lz4" | "none";

export interface ErofsOptions {
  compression?: ErofsCompression;
  /** Filesystem UUID (e.g. derived from the manifest digest, so rebuilds match). */
  uuid?: string;
  signal?: AbortSignal;
}

/**
 * Packs a directory into an erofs image with mkfs.erofs (erofs-utils 1.5 has no --tar, so it
 * reads the flattened tree). Ownership, modes, xattrs, device nodes and hardlinks are kept by
 * default (never --all-root); --preserve-mtime keeps every file's own mtime.
 */
export async function packErofs(dir: string, out: string, opts: ErofsOptions = {}): Promise<void> {
  const bin = Bun.which("mkfs.erofs");
  if (!bin) {
    throw new ShedError("BACKEND_UNAVAILABLE", "mkfs.erofs is not installed, so images cannot become VM root filesystems: apt-get install erofs-utils");
  }
  const compression = opts.compression ?? "lz4hc";
  const argv = [bin, "--quiet", "--preserve-mtime"];
  if (compression !== "none") argv.push(`-z${compression}`);
  if (opts.uuid) argv.push(`-U${opts.uuid}`);
  argv.push(out, dir);
  const p = Bun.spawn(argv, { stdout: "ignore", stderr: "pipe", signal: opts.signal });
  const [code, stderr] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  opts.signal?.throwIfAborted();
  if (code !== 0) {
    const why = stderr.trim().split("\n").slice(-5).join("; ");
    if (/No space left/i.test(why)) {
      throw new ShedError("STORAGE_FULL", `no space left for the erofs image ${out}: free disk space in the state directory and retry`);
    }
    throw new ShedError("INTERNAL", `mkfs.erofs failed (exit ${code}) packing ${dir}: ${why}`);
  }
}

const EROFS_MAGIC = 0xe0f5e1e2;

/** True when the file starts like an erofs image (superblock magic at 1024). */
export function looksLikeErofs(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return false;
  }
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 1024) === 4 && b.readUInt32LE(0) === EROFS_MAGIC;
  } finally {
    closeSync(fd);
  }
}

/** A UUID made from a digest's first 128 bits (the same image gets the same filesystem UUID). */
export function uuidFromDigest(digest: string): string {
  const hex = digest.replace(/^sha256:/, "").slice(0, 32).padEnd(32, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
