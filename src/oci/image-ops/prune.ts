import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Digest } from "../spec/digest.ts";
import { MANIFEST_MAX_BYTES, parseManifest } from "../spec/manifest.ts";
import type { ContentStore } from "../store/index.ts";

/**
 * Reclaims space by reachability. Roots: every tagged image (with `all`, only images in
 * `keep`) plus `keep` itself (images used by sheds and named by the config). Dangling
 * manifests outside the roots leave the ref index; blobs no root reaches are deleted, and
 * so are downloads left unfinished in tmp/. Runs alone: no pull or load writes meanwhile.
 * Roots whose blobs are missing are reported as broken (and nothing of theirs is deleted).
 */
export interface PruneOptions {
  /** Refs (full, normalised) and manifest digests that must stay. */
  keep: Set<string>;
  /** Also remove tagged images that are not in `keep`. */
  all?: boolean;
  /**
   * Only images added to the store before this time (epoch ms) may go (`system prune --until`);
   * younger ones, and ones of unknown age, are roots. Unfinished downloads likewise.
   */
  addedBefore?: number;
  dryRun?: boolean;
}

export interface PruneResult {
  dryRun: boolean;
  images: { ref?: string; digest: Digest }[];
  blobs: number;
  reclaimedBytes: number;
  broken: { ref?: string; digest: Digest; missing: Digest[] }[];
}

export async function pruneStore(store: ContentStore, opts: PruneOptions): Promise<PruneResult> {
  return store.sweep.withExclusive(async () => {
    const entries = store.list();
    const young = (e: (typeof entries)[number]) => opts.addedBefore !== undefined && !(Date.parse(e.addedAt) <= opts.addedBefore);
    const isRoot = (e: (typeof entries)[number]) =>
      opts.keep.has(e.digest) || (e.ref !== undefined && (opts.keep.has(e.ref) || !opts.all)) || young(e);
    const roots = entries.filter(isRoot);
    const removed = entries.filter((e) => !isRoot(e) && !roots.some((r) => r.digest === e.digest));

    const reachable = new Set<Digest>();
    const broken: PruneResult["broken"] = [];
    for (const root of roots) {
      const missing: Digest[] = [];
      await walk(store, root.digest, reachable, missing);
      if (missing.length > 0 && !broken.some((b) => b.digest === root.digest)) {
        broken.push({ ...(root.ref ? { ref: root.ref } : {}), digest: root.digest, missing });
      }
    }
    // Digests still named by a kept entry (e.g. a shed's image by digest) stay even without an index entry.
    for (const k of opts.keep) if (k.startsWith("sha256:")) await walk(store, k as Digest, reachable, []);

    const garbage = store.allBlobs().filter((b) => !reachable.has(b.digest));
    const tmp = listTmp(store.tmpDir).filter((t) => opts.addedBefore === undefined || t.mtimeMs <= opts.addedBefore);
    const reclaimedBytes = garbage.reduce((n, b) => n + b.size, 0) + tmp.reduce((n, t) => n + t.size, 0);
    if (!opts.dryRun) {
      for (const e of removed) {
        if (e.ref) await store.untag(e.ref);
        else store.removeDigest(e.digest);
      }
      for (const b of garbage) rmSync(store.blobPath(b.digest), { force: true });
      for (const t of tmp) rmSync(t.path, { force: true, recursive: true });
    }
    return {
      dryRun: Boolean(opts.dryRun),
      images: removed.map((e) => ({ ...(e.ref ? { ref: e.ref } : {}), digest: e.digest })),
      blobs: garbage.length,
      reclaimedBytes,
      broken,
    };
  });
}

/** Marks a manifest (or index) and everything it refers to; records what is absent. */
async function walk(store: ContentStore, digest: Digest, seen: Set<Digest>, missing: Digest[]): Promise<void> {
  if (seen.has(digest)) return;
  if (!store.hasBlob(digest)) {
    missing.push(digest);
    return;
  }
  seen.add(digest);
  let parsed: ReturnType<typeof parseManifest>;
  try {
    parsed = parseManifest(await store.readBlob(digest, MANIFEST_MAX_BYTES), undefined, digest);
  } catch {
    return; // not a manifest: a plain blob kept by digest
  }
  const children = parsed.kind === "index" ? parsed.index.manifests : [parsed.manifest.config, ...parsed.manifest.layers];
  for (const c of children) {
    const d = c.digest as Digest;
    if (parsed.kind === "index") {
      // Indexes stored whole may list platforms that were never fetched: not broken.
      if (store.hasBlob(d)) await walk(store, d, seen, missing);
    } else if (!store.hasBlob(d)) missing.push(d);
    else seen.add(d);
  }
}

function listTmp(dir: string): { path: string; size: number; mtimeMs: number }[] {
  try {
    return readdirSync(dir).map((name) => {
      const path = join(dir, name);
      let size = 0;
      let mtimeMs = 0;
      try {
        ({ size, mtimeMs } = statSync(path));
      } catch {}
      return { path, size, mtimeMs };
    });
  } catch {
    return [];
  }
}
