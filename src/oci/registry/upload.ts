import { ShedError } from "../../api/errors.ts";
import type { Digest } from "../spec/digest.ts";
import type { RegistryClient, Repo } from "./client.ts";

/**
 * Pushing one blob: HEAD first (the registry may have it), then a cross-repository mount
 * when the blob came from another repository of the same registry, else an upload:
 * monolithic (one PUT) for small blobs, chunked (PATCH with Content-Range, then PUT) for
 * large ones. Bodies are slices of the store's file, so nothing is held in memory.
 */
export const CHUNK_SIZE = 32 * 1024 * 1024;

export type BlobPushResult = "exists" | "mounted" | "uploaded";

export interface PushBlobOptions {
  /** A repository on the same registry that has the blob (for a mount). */
  mountFrom?: string;
  onBytes?: (done: number, total: number) => void;
  chunkSize?: number;
}

export async function blobExists(client: RegistryClient, repo: Repo, digest: Digest, access: "pull" | "pull,push" = "pull,push"): Promise<boolean> {
  const res = await client.request(repo, `blobs/${digest}`, {
    method: "HEAD",
    access,
    what: `blob ${digest} in ${repo.path}`,
    accept: [404],
    signal: AbortSignal.timeout(60_000),
  });
  await res.body?.cancel();
  return res.status === 200;
}

export async function pushBlob(
  client: RegistryClient,
  repo: Repo,
  digest: Digest,
  file: Blob,
  opts: PushBlobOptions = {},
): Promise<BlobPushResult> {
  const what = `blob ${digest} to ${repo.path}`;
  if (await blobExists(client, repo, digest)) return "exists";

  const mount = opts.mountFrom && opts.mountFrom !== repo.path ? opts.mountFrom : undefined;
  const query = mount ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mount)}` : "";
  const start = await client.request(repo, `blobs/uploads/${query}`, {
    method: "POST",
    access: "pull,push",
    extraScopes: mount ? [`repository:${mount}:pull`] : [],
    what,
    headers: { "content-length": "0" },
    accept: [201, 202],
    signal: AbortSignal.timeout(60_000),
  });
  await start.body?.cancel();
  if (start.status === 201) return "mounted";
  let location = locationOf(start, what);

  const size = file.size;
  const chunk = opts.chunkSize ?? CHUNK_SIZE;
  if (size > chunk) {
    for (let off = 0; off < size; off += chunk) {
      const end = Math.min(size, off + chunk);
      const res = await client.request(repo, location, {
        method: "PATCH",
        access: "pull,push",
        what,
        headers: {
          "content-type": "application/octet-stream",
          "content-range": `${off}-${end - 1}`,
          "content-length": String(end - off),
        },
        body: file.slice(off, end),
        accept: [202],
      });
      await res.body?.cancel();
      location = locationOf(res, what);
      opts.onBytes?.(end, size);
    }
    await finish(client, repo, location, digest, null, what);
  } else {
    await finish(client, repo, location, digest, file, what);
    opts.onBytes?.(size, size);
  }
  return "uploaded";
}

async function finish(client: RegistryClient, repo: Repo, location: string, digest: Digest, body: Blob | null, what: string): Promise<void> {
  const url = client.url(repo, location);
  url.searchParams.set("digest", digest);
  const res = await client.request(repo, url.toString(), {
    method: "PUT",
    access: "pull,push",
    what,
    headers: { "content-type": "application/octet-stream", "content-length": String(body?.size ?? 0) },
    body,
    accept: [201, 204],
  });
  await res.body?.cancel();
}

function locationOf(res: Response, what: string): string {
  const loc = res.headers.get("location");
  if (!loc) throw new ShedError("REGISTRY_ERROR", `the registry started the upload of ${what} without an upload location`);
  // Relative locations ("/v2/...") are resolved against the registry by client.url.
  return loc;
}
