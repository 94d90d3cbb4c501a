import { lstatSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";

/** Bytes of a set of files: what they say (apparent) and what the disk gives them. */
export interface Bytes {
  logical: number;
  physical: number;
}

/** Files bigger than this are asked for their extents (sharing is only worth finding in disks and blobs). */
const EXTENT_MIN_BYTES = 1 << 20;

/**
 * Walks `root` once and gives every file and directory to the claim nearest above it (a
 * claim is a path: a shed's instance dir, a snapshot, the image store), the rest to
 * `unclaimed`. Counted as du counts: apparent sizes for `logical` (du --apparent-size -b),
 * allocated blocks for `physical` (du -B1), a hard-linked inode once. Reflink-shared extents
 * are found with FIEMAP (filefrag) in large files: `sharedSaving` is what counting each
 * shared extent once takes off the sum of `physical` (du counts them once per file).
 */
export async function walkClaims(root: string, claims: Map<string, string>, unclaimed = "other"): Promise<{ byClaim: Map<string, Bytes>; sharedSaving: number; unreadable: string[] }> {
  const byClaim = new Map<string, Bytes>();
  const seenInodes = new Set<string>();
  const large: string[] = [];
  const unreadable: string[] = [];
  const owner = (path: string): string => {
    for (let p = path; ; p = dirname(p)) {
      const c = claims.get(p);
      if (c !== undefined) return c;
      if (p === root || p === dirname(p)) return unclaimed;
    }
  };
  const add = (key: string, st: { size: number; blocks: number }) => {
    const b = byClaim.get(key) ?? { logical: 0, physical: 0 };
    b.logical += st.size;
    b.physical += st.blocks * 512;
    byClaim.set(key, b);
  };
  const visit = (path: string) => {
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(path);
    } catch {
      return; // gone meanwhile
    }
    const inode = `${st.dev}:${st.ino}`;
    if (st.nlink > 1 && !st.isDirectory()) {
      if (seenInodes.has(inode)) return;
      seenInodes.add(inode);
    }
    add(owner(path), st);
    if (st.isFile() && st.size >= EXTENT_MIN_BYTES) large.push(path);
    if (st.isDirectory()) {
      let entries: string[];
      try {
        entries = readdirSync(path);
      } catch {
        unreadable.push(path);
        return;
      }
      for (const e of entries) visit(join(path, e));
    }
  };
  visit(root);
  return { byClaim, sharedSaving: await sharedSaving(large), unreadable };
}

/** Sum of shared extents' lengths minus the length of their union: the bytes du counts more than once. */
async function sharedSaving(files: string[]): Promise<number> {
  const filefrag = Bun.which("filefrag") ?? Bun.which("filefrag", { PATH: "/usr/sbin:/sbin" });
  if (!filefrag || files.length === 0) return 0;
  const ranges: [number, number][] = [];
  for (const file of files) {
    const p = Bun.spawn([filefrag, "-v", "-b1", file], { stdout: "pipe", stderr: "ignore" });
    const out = await new Response(p.stdout).text();
    await p.exited;
    // " 0:        0..   65535:   1234..  66769:  65536:   ...  shared,last"
    for (const m of out.matchAll(/^\s*\d+:\s+\d+\.\.\s*\d+:\s+(\d+)\.\.\s*(\d+):\s+(\d+):.*\bshared\b/gm)) {
      const start = Number(m[1]);
      ranges.push([start, start + Number(m[3])]);
    }
  }
  if (ranges.length === 0) return 0;
  ranges.sort((a, b) => a[0] - b[0]);
  let total = 0;
  let union = 0;
  let [cs, ce] = ranges[0]!;
  for (const [s, e] of ranges) {
    total += e - s;
    if (s > ce) {
      union += ce - cs;
      [cs, ce] = [s, e];
    } else ce = Math.max(ce, e);
  }
  union += ce - cs;
  return total - union;
}
