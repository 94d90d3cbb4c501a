import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import type { RegistryClient, Repo } from "../registry/client.ts";
import { putManifest } from "../registry/manifests.ts";
import { pushBlob } from "../registry/upload.ts";
import { type Digest, shortDigest } from "../spec/digest.ts";
import { uniqueDescriptors } from "../spec/manifest.ts";
import { parseReference, tryParseReference } from "../spec/reference.ts";
import type { ContentStore } from "../store/index.ts";
import { runPool } from "./pool.ts";
import { throttledProgress } from "./throttle.ts";

/**
 * Push byte-perfect: every blob exactly as stored (skipped when the registry has it, mounted
 * from the source repository when it is on the same registry), then the manifest's own
 * bytes, last, so the digest at the destination is the local digest.
 */
export interface PushOptions {
  concurrency?: number;
  /** Blobs larger than this go up in chunks of this size (default 32 MiB). */
  chunkSize?: number;
  progress?: Progress;
}

export interface PushResult {
  ref: string;
  digest: Digest;
  size: number;
  uploaded: number;
  mounted: number;
  existing: number;
}

export async function pushImage(client: RegistryClient, store: ContentStore, source: string, destination: string, opts: PushOptions = {}): Promise<PushResult> {
  const image = await store.resolve(source);
  const dst = parseReference(destination);
  if (dst.digest && dst.digest !== image.manifestDigest) {
    throw new ShedError("INVALID_REQUEST", `${destination} names digest ${dst.digest}, but ${source} is ${image.manifestDigest}`);
  }
  const repo: Repo = { registry: dst.registry, path: dst.path };
  const progress = throttledProgress(opts.progress ?? (() => {}));
  const origin = image.ref ? tryParseReference(image.ref) : undefined;
  const mountFrom = origin && origin.registry === dst.registry && origin.path !== dst.path ? origin.path : undefined;

  const blobs = uniqueDescriptors([image.manifest.config, ...image.layers]);
  const counts = { uploaded: 0, mounted: 0, existing: 0 };
  for (const d of blobs) progress({ id: shortDigest(d.digest), status: "waiting", current: 0, total: d.size });
  await runPool(blobs, opts.concurrency ?? 3, async (d) => {
    const id = shortDigest(d.digest);
    const digest = d.digest as Digest;
    if (!store.hasBlob(digest)) {
      throw new ShedError("IMAGE_NOT_FOUND", `blob ${digest} of ${source} is missing from the store; pull the image again`);
    }
    const outcome = await pushBlob(client, repo, digest, Bun.file(store.blobPath(digest)), {
      ...(mountFrom ? { mountFrom } : {}),
      ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
      onBytes: (done, total) => progress({ id, status: "uploading", current: done, total }),
    });
    counts[outcome === "exists" ? "existing" : outcome]++;
    progress({ id, status: outcome === "exists" ? "already there" : outcome, current: d.size, total: d.size });
  });

  const bytes = await store.readBlob(image.manifestDigest);
  progress({ id: "manifest", status: `pushing ${dst.familiar()}` });
  const reported = await putManifest(client, repo, dst.tag ?? image.manifestDigest, bytes, image.manifestMediaType, `the manifest of ${dst.familiar()}`);
  if (reported && reported !== image.manifestDigest) {
    throw new ShedError("REGISTRY_ERROR", `registry ${dst.registry} stored the manifest as ${reported}, not ${image.manifestDigest}; it rewrote it`);
  }
  progress({ id: "manifest", status: `pushed ${dst.familiar()} (${image.manifestDigest})` });
  return {
    ref: dst.toString(),
    digest: image.manifestDigest,
    size: blobs.reduce((n, d) => n + d.size, 0),
    ...counts,
  };
}
