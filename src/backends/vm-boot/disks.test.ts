import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeUpperDisk } from "./upper-disk.ts";
import { checkUpperDisk } from "./disks.ts";

const dir = mkdtempSync(join(tmpdir(), "shed-disk-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasMkfs = Bun.which("mkfs.ext4") !== null || Bun.which("mkfs.ext4", { PATH: "/usr/sbin:/sbin" }) !== null;
if (!hasMkfs) console.warn("skipped: needs mkfs.ext4 (e2fsprogs)");

describe("upper disk check before boot", () => {
  it.skipIf(!hasMkfs)("passes a fresh disk, and reports a broken or missing one with what to do", async () => {
    const ok = join(dir, "upper.ext4");
    await makeUpperDisk(ok, 1024 ** 3);
    expect(() => checkUpperDisk(ok, "web")).not.toThrow();
    const broken = join(dir, "broken.ext4");
    await makeUpperDisk(broken, 1024 ** 3);
    const fd = openSync(broken, "r+");
    writeSync(fd, Buffer.alloc(1024), 0, 1024, 1024);
    closeSync(fd);
    expect(() => checkUpperDisk(broken, "web")).toThrow(/shed "web" is corrupt.*shed reset web/);
    expect(() => checkUpperDisk(join(dir, "nope.ext4"), "web")).toThrow(/is missing/);
  });
});
