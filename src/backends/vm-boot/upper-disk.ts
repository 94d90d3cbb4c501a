import { chmodSync, closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import { fsyncDir } from "../../fs/atomic-file.ts";

/**
 * The per-shed writable upper disk of the VM backends: a sparse file holding ext4, made on the
 * host with plain tools (truncate, mkfs.ext4 -d; no loop device, no mount), with the
 * overlay's upper and work directories already in it, owned by root. The guest's init
 * (guest/init/init) mounts it and stacks it over the image's erofs root.
 *
 * It lives here with the boot image (boot-image.ts), not in src/oci/rootfs/ (image -> erofs):
 * it has nothing to do with images, and every VM backend uses it.
 */
export const UPPER_SIZE_DEFAULT = "5G";
export const UPPER_SIZE_MIN = 1024 ** 3;
export const UPPER_SIZE_MAX = 100 * 1024 ** 3;
/** Directories made on the disk: the overlay's upperdir and workdir, as guest/init expects them. */
export const UPPER_DIRS = ["root", "work"] as const;

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "5G", "512M", "1.5g", "20GiB" or a byte count -> bytes (binary units). */
export function parseSize(text: string | number, what = "size"): number {
  if (typeof text === "number") {
    if (!Number.isSafeInteger(text) || text < 0) throw new ShedError("INVALID_REQUEST", `${what} ${text} is not a byte count`);
    return text;
  }
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new ShedError("INVALID_REQUEST", `${what} "${text}" is not a size: use e.g. 5G, 512M or 20G`);
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

/** `--upper-size`: default 5G, at least 1G, at most 100G. */
export function parseUpperSize(text: string | number | undefined): number {
  const bytes = parseSize(text ?? UPPER_SIZE_DEFAULT, "--upper-size");
  if (bytes < UPPER_SIZE_MIN || bytes > UPPER_SIZE_MAX) {
    throw new ShedError("INVALID_REQUEST", `--upper-size ${text} is out of range: it must be between 1G and 100G (default ${UPPER_SIZE_DEFAULT})`);
  }
  return bytes;
}

export interface UpperDisk {
  path: string;
  /** Apparent size (what the guest sees). */
  sizeBytes: number;
  /** Bytes actually allocated on the host (the file is sparse). */
  allocatedBytes: number;
}

/**
 * Makes the upper disk at `path` (replacing nothing: EEXIST if it exists). Built under a temp
 * name and renamed into place, so a crash never leaves a half-made disk at `path`.
 */
export async function makeUpperDisk(path: string, sizeBytes: number, opts: { label?: string } = {}): Promise<UpperDisk> {
  if (sizeBytes < UPPER_SIZE_MIN || sizeBytes > UPPER_SIZE_MAX) {
    throw new ShedError("INVALID_REQUEST", `upper disk size ${sizeBytes} is out of range (1G-100G)`);
  }
  if (existsSync(path)) throw new ShedError("INTERNAL", `the upper disk ${path} already exists`);
  const mkfs = Bun.which("mkfs.ext4") ?? Bun.which("mkfs.ext4", { PATH: "/usr/sbin:/sbin" });
  if (!mkfs) throw new ShedError("BACKEND_UNAVAILABLE", "mkfs.ext4 is not installed, so VM sheds cannot get a disk: apt-get install e2fsprogs");
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const skeleton = mkdtempSync(join(tmpdir(), "shed-upper-"));
  try {
    for (const d of UPPER_DIRS) {
      mkdirSync(join(skeleton, d));
      chmodSync(join(skeleton, d), 0o755);
    }
    // A sparse file: truncate allocates nothing; lazy init keeps mkfs from writing the tables.
    writeFileSync(tmp, "");
    const fd = openSync(tmp, "r+");
    try {
      ftruncateSync(fd, sizeBytes);
    } finally {
      closeSync(fd);
    }
    const argv = [
      mkfs,
      "-F",
      "-q",
      "-L",
      opts.label ?? "shed-upper",
      "-E",
      "root_owner=0:0,lazy_itable_init=1,lazy_journal_init=1,nodiscard",
      "-d",
      skeleton,
      tmp,
    ];
    await run(argv, `making the upper disk ${path}`);
    if (process.getuid?.() !== 0) {
      // -d copies the skeleton's owner (us): the overlay's upper root must be root's.
      const debugfs = Bun.which("debugfs") ?? Bun.which("debugfs", { PATH: "/usr/sbin:/sbin" }) ?? "debugfs";
      const cmds = UPPER_DIRS.flatMap((d) => [`sif /${d} uid 0`, `sif /${d} gid 0`]).join("\n");
      writeFileSync(join(skeleton, "cmds"), `${cmds}\n`);
      await run([debugfs, "-w", "-f", join(skeleton, "cmds"), tmp], `setting owners on the upper disk ${path}`);
    }
    const out = openSync(tmp, "r");
    try {
      fsyncSync(out);
    } finally {
      closeSync(out);
    }
    renameSync(tmp, path);
    fsyncDir(dirname(path));
    const st = statSync(path);
    return { path, sizeBytes: st.size, allocatedBytes: st.blocks * 512 };
  } catch (err) {
    rmSync(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code === "ENOSPC") {
      throw new ShedError("STORAGE_FULL", `no space left for the upper disk ${path}: free disk space in the state directory`, { cause: err });
    }
    throw err;
  } finally {
    rmSync(skeleton, { recursive: true, force: true });
  }
}

async function run(argv: string[], what: string): Promise<void> {
  const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (code !== 0) {
    const why = `${err}${out}`.trim().split("\n").slice(-4).join("; ");
    if (/No space left/i.test(why)) throw new ShedError("STORAGE_FULL", `no space left while ${what}: free disk space in the state directory`);
    throw new ShedError("INTERNAL", `${what} failed (${argv[0]} exit ${code}): ${why}`);
  }
}
