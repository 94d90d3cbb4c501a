import { renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { ShedError } from "../../api/errors.ts";
import { fsyncDir, writeFileAtomic as writeFileAtomicDurably } from "../../fs/atomic-file.ts";

/**
 * File operations of the store, with the failure that matters most here (a full disk)
 * turned into STORAGE_FULL with what to do about it.
 */
export function storageError(err: unknown, what: string): ShedError {
  if (err instanceof ShedError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new ShedError(
      "STORAGE_FULL",
      `no space left on the device while ${what}; free space in the server's state dir (try \`shed image prune\`) and retry`,
      { cause: err },
    );
  }
  return new ShedError("INTERNAL", `${what}: ${(err as Error).message}`, { cause: err });
}

/** Moves a complete, fsynced temp file into place and makes the rename durable. */
export function installFile(tmp: string, dest: string): void {
  renameSync(tmp, dest);
  fsyncDir(dirname(dest));
}

/** Whole-file atomic write for small files (index.json), a full disk reported as STORAGE_FULL. */
export function writeFileAtomic(path: string, data: string | Uint8Array, what: string): void {
  try {
    writeFileAtomicDurably(path, data);
  } catch (err) {
    throw storageError(err, what);
  }
}

export function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
}
