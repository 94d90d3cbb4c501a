import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  writeSync,
} from "node:fs";
import type { Logger } from "../../log/logger.ts";
import { fsetxattr, LibcError, lsetxattr, makedev, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from "./libc.ts";
import { type SafeTree, splitEntryName, UnsafeEntry } from "./safe-tree.ts";
import type { TarHandler, TarHeader } from "../../tar/parser.ts";

/** What to do with device nodes in a layer (fifos are always kept: they are harmless). */
export type DevicePolicy = "allow" | "skip" | "refuse";

export interface ApplyPolicy {
  devices: DevicePolicy;
  logger: Logger;
}

/** Seconds (atime, mtime) to put on a directory once everything below it is written. */
export type DirTimes = Map<string, [number, number]>;

const WH = ".wh.";
const OPAQUE = ".wh..wh..opq";
const FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * Applies one layer's tar entries to the tree, in order, with OCI whiteouts: `.wh.NAME`
 * removes NAME of the layers below, `.wh..wh..opq` hides everything the layers below put in
 * its directory. A whiteout never removes what this same layer created (the spec's rule,
 * whatever order the entries come in). Ownership, permission bits (setuid/setgid/sticky
 * included), xattrs and times are set after the content, in the order that keeps them:
 * chown clears setuid bits and file capabilities, so chown, then chmod, then xattrs.
 */
export class LayerApplier implements TarHandler {
  /** Real paths this layer created or merged (relative to the root). */
  private readonly created = new Set<string>();
  private fd: number | undefined;
  private fdPath = "";
  entries = 0;
  bytes = 0;
  skippedDevices = 0;
  droppedXattrs = 0;
  /** Name of the entry being applied, for errors raised outside a callback. */
  currentEntry: string | undefined;

  constructor(
    private readonly tree: SafeTree,
    private readonly policy: ApplyPolicy,
    private readonly dirTimes: DirTimes,
  ) {}

  entry(h: TarHeader): ((chunk: Uint8Array) => void) | undefined {
    this.currentEntry = h.name;
    this.entries++;
    const parts = splitEntryName(h.name);
    const base = parts.at(-1);
    if (base === undefined) {
      if (h.type !== "dir") throw new UnsafeEntry(`the image root can only be a directory, not a ${h.type}`);
      this.setDirMeta("", h);
      return undefined;
    }
    if (base.startsWith(WH)) {
      this.whiteout(parts.slice(0, -1), base);
      return undefined;
    }
    const dir = this.tree.resolveDir(parts.slice(0, -1), true)!;
    const rel = this.tree.child(dir, base);
    switch (h.type) {
      case "dir":
        this.makeDir(rel, h);
        return undefined;
      case "file":
        return this.openFile(rel);
      case "symlink":
        this.makeSymlink(rel, h);
        return undefined;
      case "hardlink":
        this.makeHardlink(rel, h);
        return undefined;
      default:
        this.makeNode(rel, h);
        return undefined;
    }
  }

  entryEnd(h: TarHeader): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    try {
      fchownSync(fd, h.uid, h.gid);
      fchmodSync(fd, h.mode);
      this.setXattrs(h, (name, value) => fsetxattr(fd, name, value, this.fdPath), false);
      futimesSync(fd, h.atime ?? h.mtime, h.mtime);
    } finally {
      this.fd = undefined;
      closeSync(fd);
    }
  }

  /** Closes what an interrupted entry left open. */
  abort(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {}
      this.fd = undefined;
    }
  }

  private whiteout(parentParts: string[], base: string): void {
    if (base === OPAQUE) {
      const dir = this.tree.resolveDir(parentParts, true)!;
      this.hideLower(dir);
      return;
    }
    if (base.startsWith(`${WH}${WH}`)) return; // other aufs metadata (.wh..wh.plnk, ...): not content
    const name = base.slice(WH.length);
    if (name === "" || name === "." || name === "..") throw new UnsafeEntry(`the whiteout "${base}" names no file of its directory`);
    const dir = this.tree.resolveDir(parentParts, false);
    if (dir === undefined) return; // nothing below to hide
    const rel = this.tree.child(dir, name);
    if (this.created.has(rel)) return;
    this.tree.clear(rel);
  }

  /** Opaque directory: removes everything below `dir` that this layer did not create. */
  private hideLower(dir: string): void {
    for (const name of this.tree.list(dir)) {
      const rel = this.tree.child(dir, name);
      if (!this.created.has(rel)) {
        this.tree.clear(rel);
        continue;
      }
      const st = this.tree.lstat(rel);
      if (st?.isDirectory()) this.hideLower(rel);
    }
  }

  private makeDir(rel: string, h: TarHeader): void {
    const st = this.tree.lstat(rel);
    if (!st?.isDirectory()) {
      this.tree.clear(rel, st);
      mkdirSync(this.tree.abs(rel), { mode: 0o700 });
    }
    this.tree.noteDir(rel);
    this.created.add(rel);
    this.setDirMeta(rel, h);
  }

  private setDirMeta(rel: string, h: TarHeader): void {
    const path = this.tree.abs(rel);
    const fd = openSync(path, DIR_FLAGS);
    try {
      fchownSync(fd, h.uid, h.gid);
      fchmodSync(fd, h.mode);
      this.setXattrs(h, (name, value) => fsetxattr(fd, name, value, path), false);
    } finally {
      closeSync(fd);
    }
    // Applied at the very end: every entry written below a directory changes its mtime.
    this.dirTimes.set(rel, [h.atime ?? h.mtime, h.mtime]);
  }

  private openFile(rel: string): (chunk: Uint8Array) => void {
    this.tree.clear(rel);
    this.created.add(rel);
    const path = this.tree.abs(rel);
    const fd = openSync(path, FILE_FLAGS, 0o600);
    this.fd = fd;
    this.fdPath = path;
    return (chunk) => {
      let off = 0;
      while (off < chunk.byteLength) off += writeSync(fd, chunk, off, chunk.byteLength - off);
      this.bytes += chunk.byteLength;
    };
  }

  private makeSymlink(rel: string, h: TarHeader): void {
    if (h.linkname === "" || h.linkname.includes("\0")) throw new UnsafeEntry("the symlink has an empty or invalid target");
    this.tree.clear(rel);
    this.created.add(rel);
    const path = this.tree.abs(rel);
    // The target is data: it is resolved in the guest, and here only ever within the root.
    symlinkSync(h.linkname, path);
    lchownSync(path, h.uid, h.gid);
    this.setXattrs(h, (name, value) => lsetxattr(path, name, value), true);
    lutimesSync(path, h.atime ?? h.mtime, h.mtime);
  }

  private makeHardlink(rel: string, h: TarHeader): void {
    const parts = splitEntryName(h.linkname, "hardlink target");
    const base = parts.at(-1);
    if (base === undefined) throw new UnsafeEntry("the hardlink points at the image root");
    const dir = this.tree.resolveDir(parts.slice(0, -1), false);
    const target = dir === undefined ? undefined : this.tree.child(dir, base);
    const st = target === undefined ? undefined : this.tree.lstat(target);
    if (target === undefined || !st) throw new UnsafeEntry(`the hardlink target "${h.linkname}" does not exist in the image`);
    if (st.isDirectory()) throw new UnsafeEntry(`the hardlink target "${h.linkname}" is a directory`);
    if (target === rel) return; // a link to itself: nothing to do
    this.tree.clear(rel);
    this.created.add(rel);
    // link(2) on Linux does not follow a symlink target: the link is to the symlink itself.
    linkSync(this.tree.abs(target), this.tree.abs(rel));
  }

  private makeNode(rel: string, h: TarHeader): void {
    const isDevice = h.type === "char" || h.type === "block";
    if (isDevice && this.policy.devices === "refuse") {
      throw new UnsafeEntry(`device nodes are not allowed here (${h.type} ${h.devmajor}:${h.devminor})`);
    }
    if (isDevice && this.policy.devices === "skip") {
      this.skippedDevices++;
      return;
    }
    this.tree.clear(rel);
    this.created.add(rel);
    const path = this.tree.abs(rel);
    const kind = h.type === "char" ? S_IFCHR : h.type === "block" ? S_IFBLK : S_IFIFO;
    try {
      mknod(path, kind | 0o600, isDevice ? makedev(h.devmajor, h.devminor) : 0n);
    } catch (err) {
      if (err instanceof LibcError && err.code === "EPERM") {
        throw new UnsafeEntry(`cannot create a ${h.type} node here (EPERM): extraction needs root (CAP_MKNOD), or set devices: skip`);
      }
      throw err;
    }
    lchownSync(path, h.uid, h.gid);
    // The name was just created by mknod, so it is the node and not a symlink.
    chmodSync(path, h.mode);
    this.setXattrs(h, (name, value) => lsetxattr(path, name, value), true);
    lutimesSync(path, h.atime ?? h.mtime, h.mtime);
  }

  private setXattrs(h: TarHeader, set: (name: string, value: Uint8Array) => void, noUserNs: boolean): void {
    for (const [name, value] of h.xattrs) {
      if (!keepXattr(name) || (noUserNs && name.startsWith("user."))) {
        // user.* cannot be set on symlinks and device nodes (the kernel says EPERM).
        this.droppedXattrs++;
        this.policy.logger.debug("xattr not kept", { entry: h.name, xattr: name });
        continue;
      }
      try {
        set(name, new Uint8Array(value));
      } catch (err) {
        if (err instanceof LibcError && (err.code === "EOPNOTSUPP" || err.code === "EPERM")) {
          throw new UnsafeEntry(
            `the extended attribute ${name} cannot be stored (${err.code}): the state directory's filesystem must support xattrs (ext4, xfs, btrfs)`,
          );
        }
        throw err;
      }
    }
  }
}

/**
 * Extended attributes kept in the root filesystem: security.* (file capabilities, SELinux
 * labels), user.* and trusted.*, except overlayfs' own (`trusted.overlay.*`,
 * `user.overlay.*`): the image is the overlay's lower layer in the guest, and a layer must not
 * steer it (redirects, opaque markers). system.* (ACLs) is not carried by OCI layers' writers.
 */
export function keepXattr(name: string): boolean {
  if (name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.")) return false;
  return name.startsWith("security.") || name.startsWith("user.") || name.startsWith("trusted.");
}
