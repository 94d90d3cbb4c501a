import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { flattenLayers, packErofs } from "../../src/oci/rootfs/index.ts";
import { lgetxattr } from "../../src/oci/rootfs/libc.ts";
import { missing } from "../harness/index.ts";
import { useTempDirs } from "../harness/temp-dir.ts";
import { erofsMountUnavailable, fsckErofs, withMountedErofs } from "./erofs-mount.ts";
import { gzip, layer, type TarSpec, tar, zstd } from "./tar-builder.ts";

/**
 * Layer application: a three-layer image (gzip, zstd, plain tar) using every entry type and
 * both kinds of whiteout, checked on the flattened tree and again inside the erofs image
 * packed from it (mounted read-only, as the guest sees it).
 */
const skip = missing({ commands: ["mkfs.erofs", "fsck.erofs"] });
const tempDir = useTempDirs();
const CAP = new Uint8Array([1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

const L1: TarSpec[] = [
  { name: "./", type: "dir", mode: 0o755, mtime: 1000 },
  { name: "etc/", mode: 0o755, mtime: 2000 },
  { name: "etc/passwd", data: "root:x:0:0::/root:/bin/sh\n", mtime: 1500 },
  { name: "etc/shadow", data: "root:*:1::::::\n", mode: 0o640, gid: 42 },
  { name: "etc/conf.d/", mode: 0o755 },
  { name: "etc/conf.d/a", data: "a" },
  { name: "etc/conf.d/b", data: "b" },
  { name: "bin/", mode: 0o755 },
  { name: "bin/busybox", data: "#!busybox\n", mode: 0o755 },
  { name: "bin/sh", type: "symlink", linkname: "busybox", uid: 3, gid: 4, mtime: 1234 },
  { name: "bin/hard", type: "hardlink", linkname: "bin/busybox" },
  { name: "bin/ping", data: "ping", mode: 0o4755, xattrs: { "security.capability": CAP, "user.note": "hi" } },
  { name: "bin/overlay-trick", data: "x", xattrs: { "trusted.overlay.redirect": "/etc" } },
  { name: "usr/bin/wall", data: "wall", mode: 0o2755, gid: 5 },
  { name: "tmp/", mode: 0o1777 },
  { name: "home/u/", mode: 0o700, uid: 1000, gid: 1000 },
  { name: "home/u/file", data: "mine", mode: 0o600, uid: 1000, gid: 1000 },
  { name: "home/u/big", data: "big ids", uid: 100000, gid: 200000 },
  { name: "abs", type: "symlink", linkname: "/etc/passwd" },
  { name: "dev/null", type: "char", devmajor: 1, devminor: 3, mode: 0o666 },
  { name: "dev/loop9", type: "block", devmajor: 7, devminor: 9, mode: 0o660, gid: 6 },
  { name: "run/initctl", type: "fifo", mode: 0o600 },
  { name: "old/x", data: "x" },
  { name: "old/y/z", data: "z" },
  { name: "opq/lower1", data: "1" },
  { name: "opq/sub/lower2", data: "2" },
  { name: "replace-me", data: "file first" },
  { name: "dir-to-link/f", data: "f" },
  { name: "var/lib/app/data", data: "v1" },
];

const L2: TarSpec[] = [
  { name: "etc/", mode: 0o755, mtime: 3000 },
  { name: "etc/.wh.shadow" },
  { name: "etc/conf.d/", mode: 0o755 },
  { name: "etc/conf.d/.wh..wh..opq" },
  { name: "etc/conf.d/c", data: "c" },
  { name: ".wh.old" },
  // Opaque marker after a sibling of the same layer: the sibling stays.
  { name: "opq/", mode: 0o755 },
  { name: "opq/new", data: "new" },
  { name: "opq/.wh..wh..opq" },
  { name: "replace-me/", mode: 0o750 },
  { name: "replace-me/inside", data: "now a dir" },
  { name: "dir-to-link", type: "symlink", linkname: "etc" },
  { name: "etc/passwd", data: "root:x:0:0::/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n", mtime: 2500 },
  // A whiteout never hides what its own layer made, whichever comes first.
  { name: "same-layer", data: "kept" },
  { name: ".wh.same-layer" },
];

const L3: TarSpec[] = [
  { name: "home/u/.wh.file" },
  { name: "var/lib/app/data", data: "v2", mode: 0o640, uid: 7, gid: 8, mtime: 1_700_000_000 },
  { name: "bin/.wh..wh.plnk" },
];

function layers() {
  return [
    layer(`sha256:${"1".repeat(64)}`, gzip(tar(L1))),
    layer(`sha256:${"2".repeat(64)}`, zstd(tar(L2))),
    layer(`sha256:${"3".repeat(64)}`, tar(L3)),
  ];
}

/** Every expectation about the image, asserted on a directory (the tree or the mounted erofs). */
function checkImage(root: string, where: string): void {
  const p = (rel: string) => join(root, rel);
  const st = (rel: string) => lstatSync(p(rel));
  const mode = (rel: string) => st(rel).mode & 0o7777;
  const read = (rel: string) => readFileSync(p(rel), "utf8");
  const exists = (rel: string) => existsSync(p(rel)) || lstatSync(p(rel), { throwIfNoEntry: false }) !== undefined;

  // Root and directories: modes, owners, times (set after their contents).
  expect(mode(""), where).toBe(0o755);
  expect(statSync(root).mtimeMs, where).toBe(1000 * 1000);
  expect(st("etc").mtimeMs, where).toBe(3000 * 1000);
  expect(mode("tmp"), where).toBe(0o1777);
  expect([st("home/u").uid, st("home/u").gid, mode("home/u")], where).toEqual([1000, 1000, 0o700]);

  // Files: content, owners, setuid/setgid, big ids, mtimes.
  expect(read("etc/passwd"), where).toContain("u:x:1000");
  expect(st("etc/passwd").mtimeMs, where).toBe(2500 * 1000);
  expect([mode("bin/ping"), mode("usr/bin/wall"), st("usr/bin/wall").gid], where).toEqual([0o4755, 0o2755, 5]);
  expect([st("home/u/big").uid, st("home/u/big").gid], where).toEqual([100000, 200000]);
  expect([read("var/lib/app/data"), mode("var/lib/app/data"), st("var/lib/app/data").uid, st("var/lib/app/data").gid], where).toEqual([
    "v2",
    0o640,
    7,
    8,
  ]);
  expect(st("var/lib/app/data").mtimeMs, where).toBe(1_700_000_000_000);

  // xattrs: the file capability survives chown and packing; overlayfs' own are dropped.
  expect([...(lgetxattr(p("bin/ping"), "security.capability") ?? [])], where).toEqual([...CAP]);
  expect(Buffer.from(lgetxattr(p("bin/ping"), "user.note") ?? []).toString(), where).toBe("hi");
  expect(lgetxattr(p("bin/overlay-trick"), "trusted.overlay.redirect"), where).toBeUndefined();

  // Links.
  expect(readlinkSync(p("bin/sh")), where).toBe("busybox");
  expect([st("bin/sh").uid, st("bin/sh").gid, st("bin/sh").mtimeMs], where).toEqual([3, 4, 1234 * 1000]);
  expect(readlinkSync(p("abs")), where).toBe("/etc/passwd");
  expect(st("bin/hard").ino, where).toBe(st("bin/busybox").ino);
  expect(st("bin/busybox").nlink, where).toBe(2);

  // Device nodes and fifos.
  expect(st("dev/null").isCharacterDevice(), where).toBe(true);
  expect([st("dev/null").rdev, mode("dev/null")], where).toEqual([(1 << 8) | 3, 0o666]);
  expect(st("dev/loop9").isBlockDevice(), where).toBe(true);
  expect([st("dev/loop9").rdev, st("dev/loop9").gid, mode("dev/loop9")], where).toEqual([(7 << 8) | 9, 6, 0o660]);
  expect(st("run/initctl").isFIFO(), where).toBe(true);

  // Whiteouts and opaque directories.
  expect(exists("etc/shadow"), where).toBe(false);
  expect(exists("old"), where).toBe(false);
  expect(exists("home/u/file"), where).toBe(false);
  expect(exists("home/u/big"), where).toBe(true);
  expect(exists("etc/conf.d/a") || exists("etc/conf.d/b"), where).toBe(false);
  expect(read("etc/conf.d/c"), where).toBe("c");
  expect(read("opq/new"), where).toBe("new");
  expect(exists("opq/lower1") || exists("opq/sub"), where).toBe(false);
  expect(read("same-layer"), where).toBe("kept");
  expect(exists("bin/.wh..wh.plnk"), where).toBe(false);

  // Replacements: file -> dir, dir -> symlink.
  expect([st("replace-me").isDirectory(), mode("replace-me"), read("replace-me/inside")], where).toEqual([true, 0o750, "now a dir"]);
  expect(readlinkSync(p("dir-to-link")), where).toBe("etc");
}

describe.skipIf(skip)("image layers -> root filesystem", () => {
  let tree: string;
  let image: string;

  beforeAll(async () => {
    const dir = tempDir("shed-rootfs-layers");
    tree = join(dir, "tree");
    image = join(dir, "rootfs.erofs");
    const stats = await flattenLayers(layers(), tree);
    expect(stats.layers).toBe(3);
    expect(stats.droppedXattrs).toBe(1);
    await packErofs(tree, image);
  });

  it("applies layers in order: whiteouts, opaque dirs, owners, modes, xattrs, links, devices", () => {
    checkImage(tree, "extracted tree");
  });

  it("packs an erofs image that fsck.erofs accepts", () => {
    const fsck = fsckErofs(image);
    expect(fsck.ok, fsck.output).toBe(true);
  });

  it.skipIf(erofsMountUnavailable())("the mounted erofs image holds exactly the same", async () => {
    await withMountedErofs(image, (root) => checkImage(root, "mounted erofs"));
  });

  it("packs uncompressed too (for emulated guests)", async () => {
    const plain = `${image}.none`;
    await packErofs(tree, plain, { compression: "none" });
    expect(fsckErofs(plain).ok).toBe(true);
    expect(statSync(plain).size).toBeGreaterThan(0);
    if (!erofsMountUnavailable()) await withMountedErofs(plain, (root) => checkImage(root, "mounted uncompressed erofs"));
  });
});
