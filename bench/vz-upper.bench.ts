/**
 * A new shed's 5G upper disk for vz: cloned from the formatted template vs mkfs.ext4 anew,
 * interleaved, on two filesystems: the temp dir's (a sparse copy where it has no reflinks)
 * and an XFS with reflinks on a loop device this bench makes and removes (a FICLONE clone,
 * what APFS's clonefile gives on a Mac). Target: the clone ~0.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeUpperDisk } from "../src/backends/vm-boot/upper-disk.ts";
import { upperFromTemplate } from "../src/backends/vm-boot/upper-template.ts";
import { compareTimes } from "./lib.ts";

const SIZE = 5 * 1024 ** 3;
const scratch = mkdtempSync(join(tmpdir(), "shed-bench-vz-upper-"));
const sh = (argv: string[]) => Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" }).exitCode;

async function compare(dir: string, label: string): Promise<void> {
  let n = 0;
  const method: string[] = [];
  await compareTimes({
    name: `new 5G upper (${label})`,
    peerName: "mkfs.ext4",
    runs: 7,
    warmup: 1,
    ours: async () => {
      const p = join(dir, `t${n++}.ext4`);
      method.push(await upperFromTemplate(p, SIZE, join(dir, "templates")));
      rmSync(p);
    },
    peer: async () => {
      const p = join(dir, `m${n++}.ext4`);
      await makeUpperDisk(p, SIZE);
      rmSync(p);
    },
    // "cuts the upper's part to ~0": at most a tenth of mkfs (lib.ts reads only "<= N x" forms).
    target: "<= 0.1x",
  });
  console.log(`  (the template's uppers were made by: ${[...new Set(method)].join(", ")})`);
}

let mounted: string | undefined;
try {
  const plain = join(scratch, "plain");
  mkdirSync(plain);
  await compare(plain, `${new TextDecoder().decode(Bun.spawnSync(["stat", "-f", "-c", "%T", plain]).stdout).trim()}, no reflinks`);
  const mkfsXfs = Bun.which("mkfs.xfs") ?? Bun.which("mkfs.xfs", { PATH: "/usr/sbin:/sbin" });
  if (!mkfsXfs || process.getuid?.() !== 0) {
    console.log("skipped: the reflink row needs root and mkfs.xfs (apt-get install xfsprogs)");
  } else {
    const img = join(scratch, "xfs.img");
    writeFileSync(img, "");
    sh(["truncate", "-s", "8G", img]);
    const mnt = join(scratch, "xfs");
    mkdirSync(mnt);
    if (sh([mkfsXfs, "-q", "-m", "reflink=1", img]) === 0 && sh(["mount", "-o", "loop", img, mnt]) === 0) {
      mounted = mnt;
      await compare(mnt, "XFS with reflinks");
    } else console.log("skipped: could not make a loop-mounted XFS here");
  }
} finally {
  if (mounted) sh(["umount", mounted]);
  rmSync(scratch, { recursive: true, force: true });
}
