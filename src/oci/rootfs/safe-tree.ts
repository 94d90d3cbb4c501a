import { lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, type Stats } from "node:fs";

/**
 * A directory that layer entries are written into and that nothing written can leave.
 *
 * The discipline (what openat(2) with O_NOFOLLOW gives in C): every path is walked from the
 * root one component at a time with lstat; a component must be a real directory, or a
 * symlink that is then resolved *inside* the root the way the container will see it
 * (`confine`, what containerd and a chroot do: `/` and `..` stop at the root), or is refused
 * (`refuse`). The last component is never followed: whatever exists there is removed and
 * the new entry created in its place (O_CREAT|O_EXCL|O_NOFOLLOW, mkdir, symlink, link and
 * mknod all fail rather than follow). Nothing else writes into the tree while a layer is
 * applied (its parent is private, mode 0700), so a checked path stays checked.
 */
export type SymlinkPolicy = "confine" | "refuse";

/** An entry that cannot be applied safely; the applier adds the layer and entry to it. */
export class UnsafeEntry extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

const MAX_SYMLINK_HOPS = 40;
const MAX_PATH_BYTES = 4096;

/**
 * An archive name as path components below the root. `./` and `.` are dropped; `..`,
 * absolute names, NUL bytes and over-long paths are refused outright: no legitimate layer
 * writer emits them, and accepting them is how extraction escapes.
 */
export function splitEntryName(name: string, what = "path"): string[] {
  if (name.includes("\0")) throw new UnsafeEntry(`the ${what} contains a NUL byte`);
  if (Buffer.byteLength(name) > MAX_PATH_BYTES) throw new UnsafeEntry(`the ${what} is longer than ${MAX_PATH_BYTES} bytes`);
  if (name.startsWith("/")) throw new UnsafeEntry(`the ${what} is absolute (layer entries must be relative to the image root)`);
  const parts: string[] = [];
  for (const p of name.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") throw new UnsafeEntry(`the ${what} contains ".." (it would point outside the image root)`);
    parts.push(p);
  }
  return parts;
}

export class SafeTree {
  /** Real directories already checked (paths relative to the root; "" is the root). */
  private readonly dirs = new Set<string>([""]);

  constructor(
    readonly root: string,
    private readonly symlinks: SymlinkPolicy = "confine",
  ) {}

  abs(rel: string): string {
    return rel === "" ? this.root : `${this.root}/${rel}`;
  }

  lstat(rel: string): Stats | undefined {
    return lstatSync(this.abs(rel), { throwIfNoEntry: false });
  }

  /**
   * The real directory (relative to the root) that `parts` name, following symlinks only
   * within the root (or refusing them). Missing directories are made (mode 0755, root-owned,
   * as tar does) when `create`, otherwise the answer is undefined.
   */
  resolveDir(parts: readonly string[], create: boolean): string | undefined {
    const queue = [...parts];
    const resolved: string[] = [];
    let hops = 0;
    while (queue.length > 0) {
      const c = queue.shift()!;
      if (c === "" || c === ".") continue;
      if (c === "..") {
        resolved.pop(); // only from symlink targets; at the root `..` is the root
        continue;
      }
      const rel = resolved.length === 0 ? c : `${resolved.join("/")}/${c}`;
      if (this.dirs.has(rel)) {
        resolved.push(c);
        continue;
      }
      const st = this.lstat(rel);
      if (!st) {
        if (!create) return undefined;
        mkdirSync(this.abs(rel), { mode: 0o755 });
        this.dirs.add(rel);
        resolved.push(c);
        continue;
      }
      if (st.isDirectory()) {
        this.dirs.add(rel);
        resolved.push(c);
        continue;
      }
      if (st.isSymbolicLink()) {
        const target = readlinkSync(this.abs(rel));
        if (this.symlinks === "refuse") {
          throw new UnsafeEntry(`the path goes through the symlink /${rel} -> ${target}`);
        }
        if (++hops > MAX_SYMLINK_HOPS) throw new UnsafeEntry(`too many levels of symlinks at /${rel}`);
        if (target.startsWith("/")) resolved.length = 0;
        queue.unshift(...target.split("/"));
        continue;
      }
      throw new UnsafeEntry(`/${rel} is not a directory, so nothing can be created below it`);
    }
    return resolved.join("/");
  }

  /** The path of `name` inside the real directory `dirRel`. */
  child(dirRel: string, name: string): string {
    return dirRel === "" ? name : `${dirRel}/${name}`;
  }

  /** Makes room for a new entry at `rel`: whatever is there (file, link, whole tree) goes. */
  clear(rel: string, existing: Stats | undefined = this.lstat(rel)): void {
    if (!existing) return;
    if (existing.isDirectory()) this.removeTree(rel);
    else rmSync(this.abs(rel), { force: true });
  }

  /** Removes `rel` and everything below it, never following a symlink. */
  removeTree(rel: string): void {
    if (rel === "") throw new UnsafeEntry("the image root itself cannot be removed");
    rmSync(this.abs(rel), { recursive: true, force: true });
    this.forget(rel);
  }

  /** Records that `rel` is now a real directory (made by the applier). */
  noteDir(rel: string): void {
    this.dirs.add(rel);
  }

  /** Children of a real directory. */
  list(rel: string): string[] {
    return readdirSync(this.abs(rel));
  }

  private forget(rel: string): void {
    this.dirs.delete(rel);
    const prefix = `${rel}/`;
    for (const d of this.dirs) if (d.startsWith(prefix)) this.dirs.delete(d);
  }
}
