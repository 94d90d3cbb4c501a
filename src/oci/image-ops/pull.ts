import { statfsSync } from "node:fs";
import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import { downloadBlob } from "../registry/download.ts";
import type { RegistryClient, Repo } from "../registry/client.ts";
import { fetchManifest, type FetchedManifest } from "../registry/manifests.ts";
import { type Digest, shortDigest } from "../spec/digest.ts";
import { type Descriptor, type Platform, uniqueDescriptors } from "../spec/manifest.ts";
import { layerCompression, MediaType } from "../spec/media-types.ts";
import { formatPlatform, hostPlatform, listPlatforms, type PlatformSpec, selectPlatform } from "../spec/platform.ts";
import { parseReference } from "../spec/reference.ts";
import type { ContentStore } from "../store/index.ts";
import { runPool } from "./pool.ts";
import { throttledProgress } from "./throttle.ts";

/**
 * Pull registry-direct: manifest (an index resolves to one platform), then config and layers,
 * at most `concurrency` at a time, each verified and installed by the store; the manifest is
 * stored and the ref tagged last, so a ref never points at an incomplete image.
 */
export interface PullOptions {
  platform?: PlatformSpec;
  concurrency?: number;
  progress?: Progress;
  signal?: AbortSignal;
}

export interface PullResult {
  /** Full normalised ref. */
  ref: string;
  digest: Digest;
  /** The index's digest when the ref named a multi-platform image. */
  indexDigest?: Digest;
  platform?: string;
  /** Bytes of config and layers. */
  size: number;
  /** Bytes fetched this time (0 when everything was there). */
  downloaded: number;
  layers: number;
}

export async function pullImage(client: RegistryClient, store: ContentStore, input: string, opts: PullOptions = {}): Promise<PullResult> {
  const ref = parseReference(input);
  const repo: Repo = { registry: ref.registry, path: ref.path };
  const progress = throttledProgress(opts.progress ?? (() => {}));
  const name = ref.familiar();
  return store.sweep.withShared(async () => {
    progress({ id: "manifest", status: `resolving ${name}` });
    const top = await fetchManifest(client, repo, ref.reference, `the manifest of ${name}`);
    let chosen: FetchedManifest = top;
    let platform: Platform | undefined;
    if (top.parsed.kind === "index") {
      const want = opts.platform ?? hostPlatform();
      const desc = selectPlatform(top.parsed.index.manifests, want);
      if (!desc) {
        throw new ShedError(
          "IMAGE_NOT_FOUND",
          `${name} has no ${formatPlatform(want)} image (it has: ${listPlatforms(top.parsed.index.manifests).join(", ") || "none"}); choose one with --platform`,
        );
      }
      platform = desc.platform;
      chosen = await fetchManifest(client, repo, desc.digest, `the ${formatPlatform(want)} manifest of ${name}`);
      if (chosen.parsed.kind !== "manifest") throw new ShedError("REGISTRY_ERROR", `${name}: an index inside an index is not supported`);
    }
    if (chosen.parsed.kind !== "manifest") throw new ShedError("REGISTRY_ERROR", `${name}: expected an image manifest`);
    const manifest = chosen.parsed.manifest;
    checkImage(manifest.config, manifest.layers, name);

    const blobs = uniqueDescriptors([manifest.config, ...manifest.layers]);
    const size = blobs.reduce((n, d) => n + d.size, 0);
    const missing = blobs.filter((d) => !store.hasBlob(d.digest as Digest));
    ensureSpace(store, missing.reduce((n, d) => n + d.size, 0), name);
    progress({ id: "manifest", status: `${chosen.digest}` });
    for (const d of blobs) {
      if (!missing.includes(d)) progress({ id: shortDigest(d.digest), status: "already here", current: d.size, total: d.size });
      else progress({ id: shortDigest(d.digest), status: "waiting", current: 0, total: d.size });
    }

    let downloaded = 0;
    await runPool(missing, opts.concurrency ?? 3, async (d) => {
      const id = shortDigest(d.digest);
      let last = 0;
      const { existed } = await downloadBlob(client, store, repo, d, {
        signal: opts.signal,
        onBytes: (done, total, status) => {
          downloaded += done - last;
          last = done;
          progress({ id, status, current: done, total });
        },
      });
      progress({ id, status: existed ? "already here" : "done", current: d.size, total: d.size });
    });

    await store.putManifest(chosen.bytes, chosen.mediaType);
    const stored = ref.toString();
    await store.tag(stored, chosen.digest, { origin: "pull", ...(platform ? { platform } : {}) });
    progress({ id: "manifest", status: `pulled ${name} (${chosen.digest})` });
    return {
      ref: stored,
      digest: chosen.digest,
      ...(top !== chosen ? { indexDigest: top.digest } : {}),
      ...(platform ? { platform: formatPlatform(platform) } : {}),
      size,
      downloaded,
      layers: manifest.layers.length,
    };
  });
}

/** Only container images: artifacts (charts, signatures) have other config and layer types. */
function checkImage(config: Descriptor, layers: Descriptor[], name: string): void {
  if (config.mediaType !== MediaType.ociConfig && config.mediaType !== MediaType.dockerConfig) {
    throw new ShedError("INVALID_REQUEST", `${name} is not a container image (its config is ${config.mediaType})`);
  }
  for (const l of layers) {
    if (!layerCompression(l.mediaType)) {
      throw new ShedError("INVALID_REQUEST", `${name} has a layer of type ${l.mediaType}, which is not a container image layer`);
    }
    if (l.urls?.length) {
      throw new ShedError("INVALID_REQUEST", `${name} has a foreign layer (${l.digest}) served from elsewhere; such images are not supported`);
    }
  }
}

/** Refuses up front when the blobs to fetch cannot fit, rather than failing half-way. */
function ensureSpace(store: ContentStore, bytes: number, name: string): void {
  let free: number;
  try {
    const st = statfsSync(store.root);
    free = st.bavail * st.bsize;
  } catch {
    return;
  }
  if (bytes > free) {
    throw new ShedError(
      "STORAGE_FULL",
      `${name} needs ${bytes} more bytes in the image store but only ${free} are free at ${store.root}; free space (try \`shed image prune\`) and retry`,
    );
  }
}
