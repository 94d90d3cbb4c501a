import { chmodSync, chownSync, existsSync, linkSync, mkdirSync, readFileSync, realpathSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import type { FirecrackerSection } from "./section.ts";

/**
 * Firecracker under its `jailer` (docs/jailer.md of v1.14.1): one jail per shed at
 * `<chroot_base_dir>/<exec file name>/<id>/root`, Firecracker chrooted there as
 * `jailer_uid:jailer_gid`, its cgroup limited to the shed's --cpus and --memory. What the
 * microVM reads is linked into the jail before each boot (a hard link; a bind mount where
 * the jail is on another filesystem) and named there by its path inside the jail; the API
 * and vsock sockets are in the jail's /run. The jail is rebuilt at every boot (the jailer
 * refuses one with its device nodes and pid file left) and removed at stop and delete,
 * cgroups too (the jailer leaves that to its caller).
 */
export interface JailData {
  id: string;
  /** The jail's root on the host. */
  root: string;
  uid: number;
  gid: number;
  /** The cgroup directories the jailer makes (removed with the jail). */
  cgroups: string[];
  /** Files bind-mounted into the jail (a hard link was not possible). */
  binds?: string[];
}

/** The files of a boot inside the jail (the paths the API is given). */
export const JAILED = { kernel: "/vmlinux", initrd: "/initrd.img", upper: "/upper.ext4", lower: "/lower.erofs", apiSocket: "/run/firecracker.socket", vsock: "/run/firecracker.vsock" } as const;

/** Whether sheds run jailed, and the jailer that jails them (its path when found on PATH). */
export interface JailerChoice {
  jailed: boolean;
  binary: string;
}

/**
 * `firecracker.jailer` as set, else on when the server runs as root and the jailer is on PATH.
 * The backend decides once, at its construction: a jailer installed or removed later takes a
 * server restart, as any other change of the host's Firecracker does.
 */
export function chooseJailer(section: FirecrackerSection): JailerChoice {
  const found = Bun.which(section.jailer_binary);
  return { jailed: section.jailer ?? (process.getuid?.() === 0 && found !== null), binary: found ?? section.jailer_binary };
}

/** The jail of the instance `id` for `section` (nothing made yet). */
export function jailOf(section: FirecrackerSection, id: string): JailData {
  const exec = execFile(section);
  const base = canonicalBase(section.chroot_base_dir);
  const root = join(base, basename(exec), id, "root");
  const version = cgroupVersion(section);
  const parent = section.parent_cgroup ?? basename(exec);
  return { id, root, uid: section.jailer_uid, gid: section.jailer_gid, cgroups: cgroupDirs(version, parent, id) };
}

/**
 * The jail's id: Firecracker's --id (alphanumerics and hyphens, at most 64), short enough that
 * the vsock socket in the jail (plus Firecracker's `_<port>` for guest-initiated connections)
 * stays under a unix socket's 108 bytes; a long name is cut and made unique by a hash.
 */
export function jailId(section: FirecrackerSection, name: string): string {
  const fixed = join(canonicalBase(section.chroot_base_dir), basename(execFile(section))).length + "/root/run/firecracker.vsock_1073741824".length + 2;
  const room = Math.min(64, 107 - fixed);
  if (room < 16) throw new ShedError("INVALID_CONFIG", `firecracker.chroot_base_dir ${section.chroot_base_dir} is too long: the jail's unix sockets would pass 108 bytes; pick a shorter one`);
  const id = `shed-${name}`.replace(/[^a-zA-Z0-9-]/g, "-");
  if (id.length <= room) return id;
  const hash = new Bun.CryptoHasher("sha256").update(name).digest("hex").slice(0, 8);
  return `${id.slice(0, room - 9)}-${hash}`;
}

/** The command line of `jailer` (chooseJailer's binary): its own arguments, the cgroup limits, then Firecracker's after `--`. */
export function jailerArgv(jailer: string, section: FirecrackerSection, jail: JailData, cpus: number, memoryMb: number): string[] {
  const version = cgroupVersion(section);
  return [
    jailer,
    "--id",
    jail.id,
    "--exec-file",
    execFile(section),
    "--uid",
    String(jail.uid),
    "--gid",
    String(jail.gid),
    "--chroot-base-dir",
    canonicalBase(section.chroot_base_dir),
    "--cgroup-version",
    String(version),
    ...(section.parent_cgroup ? ["--parent-cgroup", section.parent_cgroup] : []),
    ...cgroupLimits(version, cpus, memoryMb).flatMap((c) => ["--cgroup", c]),
    "--",
    "--api-sock",
    JAILED.apiSocket,
  ];
}

/**
 * The jail made afresh for a boot: the old one gone, its root made, the microVM's files in it
 * (owned so that `uid` can read them, and write the shed's disk).
 */
export async function prepareJail(jail: JailData, files: { kernel: string; initrd: string; upper: string; lower: string }): Promise<void> {
  await removeJail(jail);
  mkdirSync(jail.root, { recursive: true, mode: 0o700 });
  const binds: string[] = [];
  for (const [what, from] of Object.entries(files) as [keyof typeof files, string][]) {
    const to = join(jail.root, JAILED[what]);
    try {
      linkSync(from, to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
      writeFileSync(to, "");
      const bind = Bun.spawnSync(["mount", "--bind", from, to], { stderr: "pipe" });
      if (bind.exitCode !== 0) throw new ShedError("BACKEND_UNAVAILABLE", `cannot bind-mount ${from} into the jail ${jail.root}: ${bind.stderr.toString().trim()}; put firecracker.chroot_base_dir on the state dir's filesystem`);
      binds.push(to);
    }
    if (jail.uid === 0) continue;
    if (what === "upper") chownSync(from, jail.uid, jail.gid);
    // Image files (shared, read-only): readable by all, as they are in the image.
    else if ((statSync(from).mode & 0o004) === 0) chmodSync(from, statSync(from).mode | 0o044);
  }
  jail.binds = binds.length ? binds : undefined;
}

/** How long a cgroup may stay busy after its Firecracker is gone (its last threads still exiting). */
const CGROUP_EMPTY_MS = 5000;

/** The jail gone (bind mounts first, then `<base>/<exec>/<id>`) and its cgroups (once empty). */
export async function removeJail(jail: JailData): Promise<void> {
  for (const b of jail.binds ?? []) Bun.spawnSync(["umount", "-l", b], { stderr: "ignore" });
  rmSync(join(jail.root, ".."), { recursive: true, force: true });
  for (const dir of jail.cgroups) await removeCgroup(dir);
}

/** rmdir of a cgroup answers EBUSY while a task is still leaving it: retried for a bounded time. */
async function removeCgroup(dir: string): Promise<void> {
  const deadline = Date.now() + CGROUP_EMPTY_MS;
  for (;;) {
    try {
      if (existsSync(dir)) rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EBUSY" || Date.now() > deadline) return;
      await Bun.sleep(50);
    }
  }
}

function execFile(section: FirecrackerSection): string {
  const found = Bun.which(section.binary) ?? section.binary;
  try {
    return realpathSync(found);
  } catch {
    throw new ShedError("BACKEND_UNAVAILABLE", `${section.binary} not found: install Firecracker (seed 002) or set firecracker.binary in server.yaml`);
  }
}

function canonicalBase(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return realpathSync(dir);
}

/** cgroup v2 when the unified hierarchy is /sys/fs/cgroup itself (not a hybrid host's v1 controllers). */
function cgroupVersion(section: FirecrackerSection): 1 | 2 {
  if (section.cgroup_version) return section.cgroup_version;
  return /^\S+ \/sys\/fs\/cgroup cgroup2 /m.test(readFileSync("/proc/mounts", "utf8")) ? 2 : 1;
}

/** Headroom over the guest's memory for Firecracker itself (its VMM threads, device buffers). */
const VMM_OVERHEAD_MB = 256;

/** The --cpus and --memory limits as the jailer's `--cgroup <file>=<value>`. */
export function cgroupLimits(version: 1 | 2, cpus: number, memoryMb: number): string[] {
  const period = 100_000;
  const quota = Math.max(1000, Math.round(cpus * period));
  const bytes = (memoryMb + VMM_OVERHEAD_MB) * 1024 * 1024;
  return version === 2
    ? [`cpu.max=${quota} ${period}`, `memory.max=${bytes}`]
    : [`cpu.cfs_period_us=${period}`, `cpu.cfs_quota_us=${quota}`, `memory.limit_in_bytes=${bytes}`];
}

/** Where the jailer makes the cgroups of `id` (per controller on v1, one on v2), found as it does in /proc/mounts. */
function cgroupDirs(version: 1 | 2, parent: string, id: string): string[] {
  const mounts = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((l) => /^\S*\s(.*)\scgroup(2?)\s(.*)\s0\s0$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null);
  if (version === 2) {
    const m = mounts.find((x) => x[2] === "2");
    return m ? [join(m[1]!, parent, id)] : [];
  }
  const controllers = new Set(cgroupLimits(1, 1, 0).map((c) => c.split(".")[0]!));
  const dirs = new Set<string>();
  for (const c of controllers) {
    const m = mounts.find((x) => x[2] === "" && x[3]!.split(",").includes(c));
    if (m) dirs.add(join(m[1]!, parent, id));
  }
  return [...dirs];
}
