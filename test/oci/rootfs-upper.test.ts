import { statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeUpperDisk, parseUpperSize } from "../../src/backends/vm-boot/upper-disk.ts";
import { missing } from "../harness/index.ts";
import { useTempDirs } from "../harness/temp-dir.ts";

/** The upper disk checked with e2fsprogs' own readers: dumpe2fs (superblock) and debugfs (contents). */
const skip = missing({ commands: ["mkfs.ext4", "dumpe2fs", "debugfs", "e2fsck"] });
const tempDir = useTempDirs();

function tool(argv: string[]): string {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout.toString();
}

describe.skipIf(skip)("the upper disk", () => {
  it("is a sparse ext4 file of --upper-size with root-owned upper and work dirs", async () => {
    const path = join(tempDir("shed-upper"), "upper.ext4");
    const size = parseUpperSize("5G");
    const disk = await makeUpperDisk(path, size);
    expect(disk.sizeBytes).toBe(size);
    expect(statSync(path).size).toBe(size);
    // Sparse: only metadata is allocated (lazy init), far below the apparent size.
    expect(disk.allocatedBytes).toBeLessThan(200 * 1024 ** 2);

    const sb = tool(["dumpe2fs", "-h", path]);
    expect(sb).toMatch(/Filesystem volume name:\s+shed-upper/);
    expect(sb).toMatch(/Filesystem features:.*extent/);
    const blockCount = Number(/Block count:\s+(\d+)/.exec(sb)![1]);
    const blockSize = Number(/Block size:\s+(\d+)/.exec(sb)![1]);
    expect(blockCount * blockSize).toBe(size);

    const ls = tool(["debugfs", "-R", "ls -l /", path]);
    for (const dir of ["root", "work"]) {
      const line = ls.split("\n").find((l) => l.trim().endsWith(` ${dir}`));
      expect(line, `${dir} in:\n${ls}`).toBeDefined();
      // debugfs ls -l: inode, mode (octal), (type), uid, gid, size, date, name
      const [, mode, uid, gid] = /^\s*\d+\s+(\d+)\s+\(\d+\)\s+(\d+)\s+(\d+)/.exec(line!)!;
      expect([mode, uid, gid]).toEqual(["40755", "0", "0"]);
    }
    const root = tool(["debugfs", "-R", "stat /", path]);
    expect(root).toMatch(/User:\s+0\s+Group:\s+0/);
    // A clean filesystem.
    tool(["e2fsck", "-fn", path]);
  });

  it("refuses sizes out of range and an existing path", async () => {
    const dir = tempDir("shed-upper");
    await expect(makeUpperDisk(join(dir, "small.ext4"), 512 * 1024 ** 2)).rejects.toThrow(/out of range/);
    const path = join(dir, "u.ext4");
    await makeUpperDisk(path, parseUpperSize("1G"));
    await expect(makeUpperDisk(path, parseUpperSize("1G"))).rejects.toThrow(/already exists/);
  });
});
