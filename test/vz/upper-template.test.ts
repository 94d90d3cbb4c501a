import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkUpperDisk } from "../../src/backends/vm-boot/disks.ts";
import { upperFromTemplate } from "../../src/backends/vm-boot/upper-template.ts";

const GiB = 1024 ** 3;
const work = mkdtempSync(join(tmpdir(), "shed-vz-template-"));
const sh = (argv: string[]) => {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() };
};

/** Extents the file shares with another file (filefrag's "shared" flag), and all its extents. */
function extents(path: string): { total: number; shared: number } {
  const lines = sh(["filefrag", "-v", path]).out.split("\n").filter((l) => /^\s*\d+:/.test(l));
  return { total: lines.length, shared: lines.filter((l) => l.includes("shared")).length };
}

/**
 * A reflink filesystem of its own: XFS (reflink=1) on a loop device over a sparse file in the
 * test's temp dir, mounted there and removed after. Why not, when the host cannot.
 */
let xfs: string | undefined;
let loopMissing: string | undefined;
const mkfsXfs = Bun.which("mkfs.xfs") ?? Bun.which("mkfs.xfs", { PATH: "/usr/sbin:/sbin" });
const filefrag = Bun.which("filefrag") ?? Bun.which("filefrag", { PATH: "/usr/sbin:/sbin" });

beforeAll(() => {
  if (process.getuid?.() !== 0) loopMissing = "root (a loop mount)";
  else if (!mkfsXfs) loopMissing = "mkfs.xfs (apt-get install xfsprogs)";
  else if (!filefrag) loopMissing = "filefrag (e2fsprogs)";
  if (loopMissing) return;
  const img = join(work, "xfs.img");
  writeFileSync(img, "");
  sh(["truncate", "-s", "2G", img]);
  const mk = sh([mkfsXfs!, "-q", "-m", "reflink=1", img]);
  const mnt = join(work, "xfs");
  mkdirSync(mnt);
  const mount = mk.code === 0 ? sh(["mount", "-o", "loop", img, mnt]) : mk;
  if (mount.code !== 0) loopMissing = `a loop-mounted XFS (${mount.out.trim().split("\n").at(-1)})`;
  else xfs = mnt;
});

afterAll(() => {
  if (xfs) sh(["umount", xfs]);
  rmSync(work, { recursive: true, force: true });
});

describe("vz: new uppers from a formatted template", () => {
  it("where the filesystem has reflinks (XFS on a loop device): the upper is a clone sharing the template's extents", async (ctx) => {
    if (loopMissing) {
      console.warn(`skipped: the reflink check needs ${loopMissing}`);
      return ctx.skip();
    }
    const templates = join(xfs!, "templates");
    const a = join(xfs!, "a", "upper.ext4");
    const b = join(xfs!, "b", "upper.ext4");
    mkdirSync(join(xfs!, "a"));
    mkdirSync(join(xfs!, "b"));
    expect(await upperFromTemplate(a, GiB, templates)).toBe("clone");
    expect(await upperFromTemplate(b, GiB, templates)).toBe("clone");
    const template = join(templates, `upper-${GiB}.ext4`);
    const t = extents(template);
    expect(t.total).toBeGreaterThan(0);
    // Every extent of the clone is the template's (shared), none its own yet.
    const ea = extents(a);
    expect(ea.total).toBeGreaterThan(0);
    expect(ea.shared).toBe(ea.total);
    expect(statSync(a).size).toBe(GiB);
    checkUpperDisk(a, "a");
    // Writing to one clone unshares only what was written: the template is untouched.
    const before = Bun.spawnSync(["sha256sum", template]).stdout.toString().split(" ")[0];
    sh(["dd", "if=/dev/urandom", `of=${a}`, "bs=4096", "count=1", "seek=100000", "conv=notrunc"]);
    expect(Bun.spawnSync(["sha256sum", template]).stdout.toString().split(" ")[0]).toBe(before);
    const eb = extents(b);
    expect(eb.shared).toBe(eb.total);
  });

  it("where it has none: a copy that keeps the holes (allocates what the template does, not the disk's size)", async () => {
    const dir = join(work, "plain");
    const upper = join(dir, "upper.ext4");
    const method = await upperFromTemplate(upper, GiB, join(dir, "templates"));
    const fsType = sh(["stat", "-f", "-c", "%T", dir]).out.trim();
    console.log(`${dir} is ${fsType}: upper made by ${method}`);
    expect(["clone", "sparse-copy"]).toContain(method);
    const st = statSync(upper);
    expect(st.size).toBe(GiB);
    expect(st.blocks * 512).toBeLessThan(GiB / 8);
    checkUpperDisk(upper, "plain");
  });
});
