import { existsSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import { cloneFile } from "../../fs/clone-file.ts";
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
  // Not flushed: the guest's first flush makes it durable, and a crash before the create ends undoes the create.
  const method = await cloneFile(template, path, 0o644, { durable: false });
  return method === "reflink" ? "clone" : "sparse-copy";
}
