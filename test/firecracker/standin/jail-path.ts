import { lstatSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/**
 * Where `path` is on the host for a process chrooted at `chroot` (relative paths from its
 * root, its working directory): symlinks followed the way chroot(2) makes them, an absolute
 * target starting again at the jail's root, `..` stopping there. A path missing inside the
 * jail resolves to a host path that is missing too, so the stand-in refuses what a jailed
 * Firecracker could not open, whatever the host has at the same path.
 */
export function jailPath(chroot: string, path: string): string {
  const todo = path.split("/").filter(Boolean);
  let at: string[] = [];
  for (let hops = 0; todo.length > 0; ) {
    const c = todo.shift()!;
    if (c === ".") continue;
    if (c === "..") {
      at.pop();
      continue;
    }
    const host = join(chroot, ...at, c);
    let link = false;
    try {
      link = lstatSync(host).isSymbolicLink();
    } catch {}
    if (!link) {
      at.push(c);
      continue;
    }
    // ELOOP after 40, as the kernel: what is left stays unresolved (and missing).
    if (++hops > 40) return join(chroot, ...at, c, ...todo);
    const target = readlinkSync(host);
    if (target.startsWith("/")) at = [];
    todo.unshift(...target.split("/").filter(Boolean));
  }
  return join(chroot, ...at);
}
