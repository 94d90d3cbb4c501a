import { ShedError } from "../../api/errors.ts";
import { type Digest, sha256Digest } from "../spec/digest.ts";
import { MANIFEST_MAX_BYTES, type ParsedManifest, parseManifest } from "../spec/manifest.ts";
import { MANIFEST_ACCEPT } from "../spec/media-types.ts";
import type { RegistryClient, Repo } from "./client.ts";
import { networkError } from "./client.ts";

/** A manifest or index as fetched: its exact bytes, their digest, and the parsed document. */
export interface FetchedManifest {
  bytes: Uint8Array;
  digest: Digest;
  mediaType: string;
  parsed: ParsedManifest;
}

/**
 * GET a manifest by tag or digest. The body is read up to 4 MiB and no further; by digest,
 * the bytes must hash to it; by tag, to the registry's Docker-Content-Digest when it sends one.
 */
export async function fetchManifest(client: RegistryClient, repo: Repo, reference: string, what: string): Promise<FetchedManifest> {
  const res = await client.request(repo, `manifests/${reference}`, {
    access: "pull",
    what,
    headers: { accept: MANIFEST_ACCEPT },
    signal: AbortSignal.timeout(60_000),
  });
  const bytes = await readCapped(res, MANIFEST_MAX_BYTES, repo, what);
  const digest = sha256Digest(bytes);
  const expected = reference.startsWith("sha256:") ? reference : res.headers.get("docker-content-digest");
  if (expected?.startsWith("sha256:") && expected !== digest) {
    throw new ShedError("DIGEST_MISMATCH", `${what} from ${repo.registry} hashes to ${digest}, not ${expected}; refused`);
  }
  const contentType = res.headers.get("content-type") ?? undefined;
  const parsed = parseManifest(bytes, contentType, what);
  return { bytes, digest, mediaType: parsed.mediaType, parsed };
}

/** HEAD a manifest: its digest and media type, or undefined when the registry has none. */
export async function headManifest(
  client: RegistryClient,
  repo: Repo,
  reference: string,
  what: string,
  access: "pull" | "pull,push" = "pull",
): Promise<{ digest?: string; mediaType?: string; size?: number } | undefined> {
  const res = await client.request(repo, `manifests/${reference}`, {
    method: "HEAD",
    access,
    what,
    headers: { accept: MANIFEST_ACCEPT },
    accept: [404],
    signal: AbortSignal.timeout(60_000),
  });
  if (res.status === 404) return undefined;
  const len = res.headers.get("content-length");
  return {
    digest: res.headers.get("docker-content-digest") ?? undefined,
    mediaType: res.headers.get("content-type") ?? undefined,
    ...(len ? { size: Number(len) } : {}),
  };
}

/** PUT a manifest's exact bytes under a tag or digest; returns the digest the registry reports. */
export async function putManifest(client: RegistryClient, repo: Repo, reference: string, bytes: Uint8Array, mediaType: string, what: string): Promise<string | undefined> {
  const res = await client.request(repo, `manifests/${reference}`, {
    method: "PUT",
    access: "pull,push",
    what,
    headers: { "content-type": mediaType },
    body: bytes,
    signal: AbortSignal.timeout(120_000),
  });
  await res.body?.cancel();
  return res.headers.get("docker-content-digest") ?? undefined;
}

async function readCapped(res: Response, max: number, repo: Repo, what: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > max) {
    await res.body?.cancel();
    throw new ShedError("REGISTRY_ERROR", `${what} is ${declared} bytes, over the 4 MiB manifest limit; refused`);
  }
  if (!res.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body) {
      total += chunk.byteLength;
      if (total > max) {
        await res.body.cancel().catch(() => {});
        throw new ShedError("REGISTRY_ERROR", `${what} is over the 4 MiB manifest limit; refused`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    throw networkError(repo.registry, what, err);
  }
  return Buffer.concat(chunks);
}
