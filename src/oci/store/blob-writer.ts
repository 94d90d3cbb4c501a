import { closeSync, fstatSync, ftruncateSync, fsyncSync, openSync, readSync, rmSync } from "node:fs";
import { DigestWriter } from "../spec/digest.ts";
import { storageError, writeAll } from "./fs-ops.ts";

/**
 * A blob being written to a temp file while its digest is computed. A `.partial` file left
 * by an interrupted download is re-read on open (so the digest state is right) and the
 * writer continues from its end: the caller asks the registry for the rest with `Range`.
 */
export class BlobWriter {
  private fd: number;
  private hash = new DigestWriter();

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** Opens `path`, keeping what is there when `resume` (at most `maxKeep` bytes), else starting empty. */
  static open(path: string, resume: boolean, maxKeep: number): BlobWriter {
    let fd: number;
    try {
      fd = openSync(path, resume ? "a+" : "w+", 0o644);
    } catch (err) {
      throw storageError(err, `creating ${path}`);
    }
    const w = new BlobWriter(path, fd);
    if (resume) {
      const size = fstatSync(fd).size;
      if (size > maxKeep) w.reset();
      else w.rehash(size);
    }
    return w;
  }

  /** Bytes written so far (including those resumed from an earlier attempt). */
  get offset(): number {
    return this.hash.size;
  }

  write(chunk: Uint8Array): void {
    try {
      writeAll(this.fd, chunk);
    } catch (err) {
      throw storageError(err, "writing a blob");
    }
    this.hash.update(chunk);
  }

  /** Drops everything written: the source could not resume, so it starts over. */
  reset(): void {
    ftruncateSync(this.fd, 0);
    this.hash = new DigestWriter();
  }

  /** Flushes to disk and returns what was written. */
  finish(): { digest: ReturnType<DigestWriter["digest"]>; size: number } {
    try {
      fsyncSync(this.fd);
    } catch (err) {
      throw storageError(err, "flushing a blob to disk");
    }
    return { digest: this.hash.digest(), size: this.hash.size };
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {}
  }

  discard(): void {
    this.close();
    rmSync(this.path, { force: true });
  }

  private rehash(size: number): void {
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = 0;
    while (pos < size) {
      const n = readSync(this.fd, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n <= 0) break;
      this.hash.update(buf.subarray(0, n));
      pos += n;
    }
    if (pos !== size) this.reset();
  }
}
