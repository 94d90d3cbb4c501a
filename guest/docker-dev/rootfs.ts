import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A Debian development rootfs for Docker sheds, made offline-friendly with debootstrap from
 * the machine's own apt mirror (no Docker Hub needed): bash, tmux, git, sudo, sftp-server and
 * the `shed` user (uid 1000, passwordless sudo). The VM images (base/devtools/default) get
 * their own recipes; this one is what the quickstart and the Docker tests use.
 */
export const DEBIAN_PACKAGES = [
  "bash",
  "tmux",
  "git",
  "sudo",
  "curl",
  "ca-certificates",
  "openssh-sftp-server",
  "openssh-client",
  "procps",
  "less",
  "python3-minimal",
  "netcat-openbsd",
];

/** Returns the path of a tar of the rootfs, building it under cacheDir when missing. */
export function debianRootfsTar(cacheDir: string, suite = "bookworm"): string {
  const tar = join(cacheDir, `debian-${suite}-root.tar`);
  if (existsSync(tar)) return tar;
  const dir = join(cacheDir, `debian-${suite}-root`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  const log = join(cacheDir, "debootstrap.log");
  run(`debootstrap --variant=minbase --include=${DEBIAN_PACKAGES.join(",")} ${suite} ${dir} ${aptMirror()} > ${log} 2>&1`);
  run(`chroot ${dir} useradd -m -u 1000 -s /bin/bash shed`);
  writeFileSync(join(dir, "etc/sudoers.d/shed"), "shed ALL=(ALL) NOPASSWD:ALL\n", { mode: 0o440 });
  run(`mkdir -p ${dir}/workspace && chown 1000:1000 ${dir}/workspace`);
  run(`rm -rf ${dir}/var/cache/apt/archives/*.deb ${dir}/var/lib/apt/lists/*`);
  run(`tar -C ${dir} --numeric-owner -cf ${tar}.tmp . && mv ${tar}.tmp ${tar}`);
  rmSync(dir, { recursive: true, force: true });
  return tar;
}

/** The Debian mirror this machine's apt uses (the only one reachable from here). */
export function aptMirror(): string {
  for (const file of ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"]) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, "utf8");
    const m = text.match(/^URIs:\s*(\S+)/m) ?? text.match(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/m);
    if (m?.[1]) return m[1];
  }
  throw new Error("no Debian mirror found in the apt sources (/etc/apt/sources.list*)");
}

function run(cmd: string): void {
  const p = Bun.spawnSync(["bash", "-c", cmd], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`failed (${p.exitCode}): ${cmd}\n${p.stderr.toString()}`);
}
