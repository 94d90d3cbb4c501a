import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasCommand } from "../harness/index.ts";

/**
 * Looks inside an erofs image the way the guest will: mounted read-only through a loop
 * device. Where the kernel cannot (no erofs, no loop devices, not root), says why instead.
 */
let probed: string | undefined | null = null;

export function erofsMountUnavailable(): string | undefined {
  if (probed !== null) return probed;
  probed = undefined;
  if (process.getuid?.() !== 0) probed = "mounting needs root";
  else if (!hasCommand("mkfs.erofs")) probed = "mkfs.erofs is missing (apt-get install erofs-utils)";
  else {
    const dir = mkdtempSync(join(tmpdir(), "shed-erofs-probe-"));
    try {
      const p = Bun.spawnSync(["bash", "-c", `mkdir t m && echo x > t/f && mkfs.erofs --quiet i.erofs t && mount -t erofs -o loop,ro i.erofs m && umount m`], {
        cwd: dir,
        stderr: "pipe",
      });
      if (p.exitCode !== 0) probed = `this kernel cannot loop-mount erofs here (${p.stderr.toString().trim()})`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (probed) console.warn(`erofs mount checks skipped: ${probed}`);
  return probed;
}

export async function withMountedErofs<T>(image: string, fn: (root: string) => Promise<T> | T): Promise<T> {
  const mnt = mkdtempSync(join(tmpdir(), "shed-erofs-mnt-"));
  const m = Bun.spawnSync(["mount", "-t", "erofs", "-o", "loop,ro", image, mnt], { stderr: "pipe" });
  if (m.exitCode !== 0) {
    rmSync(mnt, { recursive: true, force: true });
    throw new Error(`mount ${image}: ${m.stderr.toString()}`);
  }
  try {
    return await fn(mnt);
  } finally {
    Bun.spawnSync(["umount", mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
}

/** fsck.erofs --extract: every file decodes; the exit code says. */
export function fsckErofs(image: string): { ok: boolean; output: string } {
  const p = Bun.spawnSync(["fsck.erofs", "--extract", image], { stdout: "pipe", stderr: "pipe" });
  return { ok: p.exitCode === 0, output: p.stdout.toString() + p.stderr.toString() };
}
