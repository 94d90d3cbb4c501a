import { chmodSync, constants, copyFileSync, renameSync, rmSync } from "node:fs";
import { ShedError } from "../api/errors.ts";
import { fsyncDir, fsyncPath } from "./atomic-file.ts";
import { dirname } from "node:path";

export type CopyMethod = "reflink" | "copy";

/**
 * Copies a (large, sparse) disk file: a reflink (FICLONE on Linux, clonefile(2) on APFS;
 * extents shared until either side writes) where the filesystem has them (XFS, Btrfs,
 * bcachefs, APFS), else a copy that keeps the holes (GNU cp finds them with SEEK_HOLE and
 * copies the data in the kernel with copy_file_range).
 * Written under a temp name and renamed into place with `mode`, so `dst` is either whole or
 * absent; `durable` (the default) flushes it to disk first. Says which way it went.
 */
export async function cloneFile(src: string, dst: string, mode: number, opts: { durable?: boolean } = {}): Promise<CopyMethod> {
  const durable = opts.durable ?? true;
  const tmp = `${dst}.${process.pid}.clone.tmp`;
  try {
    let method: CopyMethod = "reflink";
    try {
      // _FORCE: a clone or a failure, never a silent full copy.
      copyFileSync(src, tmp, constants.COPYFILE_FICLONE_FORCE);
    } catch {
      rmSync(tmp, { force: true });
      method = "copy";
      const r = await cp([src, tmp]);
      if (r.code !== 0) {
        if (/No space left/i.test(r.stderr)) throw new ShedError("STORAGE_FULL", `no space left copying ${src}: free disk space where ${dirname(dst)} is`);
        throw new ShedError("INTERNAL", `copying ${src} to ${dst} failed: ${r.stderr.trim()}`);
      }
    }
    chmodSync(tmp, mode);
    if (durable) fsyncPath(tmp);
    renameSync(tmp, dst);
    if (durable) fsyncDir(dirname(dst));
    return method;
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

async function cp(args: string[]): Promise<{ code: number; stderr: string }> {
  // macOS's cp has no --no-preserve (and keeps holes on APFS by itself).
  const gnu = process.platform === "darwin" ? [] : ["--no-preserve=all"];
  const p = Bun.spawn(["cp", ...gnu, ...args], { stdout: "ignore", stderr: "pipe" });
  const [code, stderr] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  return { code, stderr };
}
