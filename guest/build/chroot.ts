import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** Runs a shell command on the host; throws with its stderr tail when it fails. */
export function sh(cmd: string, opts: { log?: string; env?: Record<string, string> } = {}): string {
  const full = opts.log ? `(${cmd}) >>${opts.log} 2>&1` : cmd;
  const p = Bun.spawnSync(["bash", "-c", `set -o pipefail; ${full}`], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...opts.env },
  });
  if (p.exitCode !== 0) {
    const tail = opts.log && existsSync(opts.log) ? readFileSync(opts.log, "utf8").slice(-2000) : p.stderr.toString();
    throw new Error(`command failed (exit ${p.exitCode}): ${cmd}\n${tail.trim()}`);
  }
  return p.stdout.toString();
}

export const CHROOT_ENV = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  DEBIAN_FRONTEND: "noninteractive",
  LANG: "C.UTF-8",
  HOME: "/root",
};

/**
 * Gives `fn` a chroot it can run apt, npm and setup scripts in: its own proc and a private
 * /dev (a tmpfs with a few nodes, never the host's), the host's DNS, and no service starts.
 * Everything is undone afterwards, also when `fn` throws.
 */
export async function withChroot<T>(root: string, fn: (run: (cmd: string) => void) => Promise<T> | T, log?: string): Promise<T> {
  const mounts: string[] = [];
  const resolv = join(root, "etc/resolv.conf");
  const resolvWasLink = isSymlink(resolv) ? sh(`readlink ${q(resolv)}`).trim() : undefined;
  const policy = join(root, "usr/sbin/policy-rc.d");
  try {
    mkdirSync(join(root, "proc"), { recursive: true });
    sh(`mount -t proc proc ${q(join(root, "proc"))}`);
    mounts.push(join(root, "proc"));
    const dev = join(root, "dev");
    mkdirSync(dev, { recursive: true });
    sh(`mount -t tmpfs -o mode=0755,size=16m shed-build-dev ${q(dev)}`);
    mounts.push(dev);
    sh(
      `cd ${q(dev)} && mknod -m 666 null c 1 3 && mknod -m 666 zero c 1 5 && mknod -m 666 full c 1 7 && ` +
        "mknod -m 666 random c 1 8 && mknod -m 666 urandom c 1 9 && mknod -m 666 tty c 5 0 && " +
        "mkdir -m 1777 shm && mkdir pts && ln -s /proc/self/fd fd",
    );
    rmSync(resolv, { force: true });
    copyFileSync("/etc/resolv.conf", resolv);
    writeFileSync(policy, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
    const run = (cmd: string) => {
      sh(`chroot ${q(root)} /bin/bash -c ${q(`set -euo pipefail; ${cmd}`)}`, { log, env: CHROOT_ENV });
    };
    return await fn(run);
  } finally {
    for (const m of mounts.reverse()) Bun.spawnSync(["umount", "-l", m]);
    rmSync(policy, { force: true });
    if (resolvWasLink) {
      rmSync(resolv, { force: true });
      sh(`ln -s ${q(resolvWasLink)} ${q(resolv)}`);
    }
  }
}

/** Removes a build directory, refusing when anything is still mounted below it. */
export function removeBuildDir(dir: string): void {
  if (!existsSync(dir)) return;
  const abs = resolve(dir);
  const mounted = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .filter((m) => m === abs || m.startsWith(`${abs}/`));
  if (mounted.length) throw new Error(`refusing to remove ${abs}: still mounted: ${mounted.join(", ")}`);
  rmSync(abs, { recursive: true, force: true });
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

export function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {}
}
