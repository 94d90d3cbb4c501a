import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cloneFile } from "./clone-file.ts";

/** A sparse file: 64 MiB apparent, 1 MiB of data at 16 MiB. */
function sparseFile(path: string): void {
  const fd = openSync(path, "w");
  ftruncateSync(fd, 64 << 20);
  writeSync(fd, Buffer.alloc(1 << 20, 7), 0, 1 << 20, 16 << 20);
  closeSync(fd);
}

const sh = (cmd: string) => {
  const p = Bun.spawnSync(["sh", "-c", cmd], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${cmd}: ${p.stderr.toString()}`);
  return p.stdout.toString();
};

/** Why an XFS loop filesystem cannot be made here, or undefined. */
function xfsMissing(): string | undefined {
  if (process.getuid?.() !== 0) return "root (losetup, mount)";
  for (const tool of ["mkfs.xfs", "losetup", "mount", "filefrag"]) if (!Bun.which(tool) && !Bun.which(tool, { PATH: "/usr/sbin:/sbin" })) return tool;
  return undefined;
}

describe("cloneFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "shed-clone-"));
  let mounted = "";
  afterAll(() => {
    if (mounted) sh(`umount ${mounted}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it("copies sparse on a filesystem without reflinks (ext4 here): same bytes, holes kept, mode set", async () => {
    const src = join(dir, "src.img");
    sparseFile(src);
    const method = await cloneFile(src, join(dir, "dst.img"), 0o444);
    const st = statSync(join(dir, "dst.img"));
    expect(st.size).toBe(64 << 20);
    expect(st.mode & 0o777).toBe(0o444);
    // Allocated: about the 1 MiB of data, not 64 MiB.
    expect(st.blocks * 512).toBeLessThan(4 << 20);
    expect(Buffer.compare(readFileSync(src), readFileSync(join(dir, "dst.img")))).toBe(0);
    const fsType = sh(`stat -f -c %T ${dir}`).trim();
    if (fsType === "ext2/ext3") expect(method).toBe("copy");
  });

  const missing = xfsMissing();
  if (missing) console.warn(`cloneFile reflink test skipped: an XFS loop filesystem needs ${missing}`);
  it.skipIf(missing)("reflinks on XFS (a loop filesystem made here): the copy shares the source's extents", async () => {
    const image = join(dir, "xfs.img");
    sh(`truncate -s 512M ${image} && mkfs.xfs -q -m reflink=1 ${image}`);
    mounted = join(dir, "mnt");
    mkdirSync(mounted);
    sh(`mount -o loop ${image} ${mounted}`);
    const src = join(mounted, "src.img");
    sparseFile(src);
    expect(await cloneFile(src, join(mounted, "dst.img"), 0o644)).toBe("reflink");
    expect(sh(`filefrag -v ${join(mounted, "dst.img")}`)).toContain("shared");
    expect(Buffer.compare(readFileSync(src), readFileSync(join(mounted, "dst.img")))).toBe(0);
  });
});
