import { chmodSync, renameSync, rmSync } from "node:fs";
import { ShedError } from "../api/errors.ts";
import { fsyncDir, fsyncPath } from "./atomic-file.ts";
import { dirname } from "node:path";

export type CopyMethod = "reflink" | "copy";

/**
 * Copies a (large, sparse) disk file: a reflink (FICLONE, extents shared until either side
 * writes) where the filesystem has them (XFS, Btrfs, bcachefs), else a sparse-aware copy
 * (holes stay holes). GNU cp does both: `--reflink=always` is FICLONE or a failure, and
 * `--sparse=always` finds the holes (SEEK_HOLE); cp refuses the two together, so one is
 * tried after the other. Written under a temp name, flushed and renamed into place with
 * `mode`, so `dst` is either whole or absent. Says which way it went.
 */
export async function cloneFile(src: string, dst: string, mode: number): Promise<CopyMethod> {
  const tmp = `${dst}.${process.pid}.clone.tmp`;
  try {
    let method: CopyMethod = "reflink";
    if ((await cp(["--reflink=always", src, tmp])).code !== 0) {
      rmSync(tmp, { force: true });
      method = "copy";
      const r = await cp(["--sparse=always", src, tmp]);
      if (r.code !== 0) {
        if (/No space left/i.test(r.stderr)) throw new ShedError("STORAGE_FULL", `no space left copying ${src}: free disk space where ${dirname(dst)} is`);
        throw new ShedError("INTERNAL", `copying ${src} to ${dst} failed: ${r.stderr.trim()}`);
      }
    }
    chmodSync(tmp, mode);
    fsyncPath(tmp);
    renameSync(tmp, dst);
    fsyncDir(dirname(dst));
    return method;
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

async function cp(args: string[]): Promise<{ code: number; stderr: string }> {
  const p = Bun.spawn(["cp", "--no-preserve=all", ...args], { stdout: "ignore", stderr: "pipe" });
  const [code, stderr] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  return { code, stderr };
}
