import { constants, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import { makeUpperDisk } from "./upper-disk.ts";

/** How a new upper came to be: cloned (shares every extent with the template), copied sparse, or formatted anew. */
export type UpperMethod = "clone" | "sparse-copy" | "mkfs";

/**
 * A new shed's upper disk from a per-size template: the formatted, empty ext4 made once
 * (mkfs is most of an upper's cost) and then cloned copy-on-write for every shed of that
 * size (clonefile(2) on APFS, FICLONE on Linux filesystems with reflinks: XFS, btrfs), or
 * copied keeping its holes where the filesystem cannot clone. Every shed still gets its own
 * disk (a fresh ext4 UUID is not needed: the guest mounts by device, never by UUID).
 */
export async function upperFromTemplate(path: string, sizeBytes: number, templateDir: string): Promise<UpperMethod> {
  const template = join(templateDir, `upper-${sizeBytes}.ext4`);
  if (!existsSync(template)) {
    mkdirSync(templateDir, { recursive: true });
    // Made under its own temp name: two creates racing both make one, the rename keeps a whole one.
    const tmp = `${template}.${process.pid}.${Date.now()}`;
    await makeUpperDisk(tmp, sizeBytes, { label: "shed-upper" });
    renameSync(tmp, template);
  }
  if (existsSync(path)) throw new ShedError("INTERNAL", `the upper disk ${path} already exists`);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const method = await cloneFile(template, tmp);
    renameSync(tmp, path);
    return method;
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** A copy-on-write clone where the filesystem has it, else a copy that keeps the holes. */
export async function cloneFile(from: string, to: string): Promise<"clone" | "sparse-copy"> {
  try {
    // FICLONE on Linux, clonefile(2) on macOS; fails rather than copy.
    copyFileSync(from, to, constants.COPYFILE_FICLONE_FORCE);
    return "clone";
  } catch {
    rmSync(to, { force: true });
  }
  const darwin = process.platform === "darwin";
  const p = Bun.spawn(["cp", ...(darwin ? [] : ["--sparse=always"]), from, to], { stdout: "ignore", stderr: "pipe" });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  if (code !== 0 || !existsSync(to) || statSync(to).size !== statSync(from).size) {
    rmSync(to, { force: true });
    const why = err.trim() || `cp exit ${code}`;
    if (/No space left/i.test(why)) throw new ShedError("STORAGE_FULL", `no space left for a new upper disk at ${to}: free disk space`);
    throw new ShedError("INTERNAL", `copying the upper template ${from} to ${to} failed: ${why}`);
  }
  return "sparse-copy";
}
