import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import { type Digest, shortDigest } from "../spec/digest.ts";
import { MANIFEST_MAX_BYTES, parseManifest } from "../spec/manifest.ts";
import { hostPlatform, formatPlatform, selectPlatform } from "../spec/platform.ts";
import { parseReference, tryParseReference } from "../spec/reference.ts";
import type { ImageOrigin } from "../store/index.ts";
import type { ContentStore } from "../store/index.ts";
import { dockerArchiveImages } from "./docker-archive.ts";
import { readTar } from "../../tar/reader.ts";

/**
 * Loads an image archive into the store: an OCI archive (a tar of an OCI image layout, what
 * `shed image save` and `skopeo copy ... oci-archive:` write) or a docker-archive (what
 * `docker save` writes). Blobs stream straight into the store, each checked against its
 * digest; small JSON files are kept in memory until the end, where the format is decided.
 */
export interface LoadedImage {
  /** Full normalised ref it was tagged with; undefined when the archive named none. */
  ref?: string;
  digest: Digest;
}

export interface LoadResult {
  format: "oci-archive" | "docker-archive";
  images: LoadedImage[];
}

export interface LoadOptions {
  /** Tag for the image (an archive with one image), overriding names inside it. */
  tag?: string;
  progress?: Progress;
  origin?: ImageOrigin;
}

/** Files kept in memory rather than streamed to the store (JSON, VERSION, ...). */
const SMALL_FILE = 1 << 20;
const OCI_BLOB = /^blobs\/sha256\/([a-f0-9]{64})$/;

export async function loadArchive(store: ContentStore, stream: ReadableStream<Uint8Array>, opts: LoadOptions = {}): Promise<LoadResult> {
  const tag = opts.tag ? parseReference(opts.tag) : undefined;
  if (tag?.digest) throw new ShedError("INVALID_REQUEST", `--tag takes name:tag, not a digest ("${opts.tag}")`);
  const progress = opts.progress ?? (() => {});
  return store.sweep.withShared(async () => {
    const small = new Map<string, Uint8Array>();
    /** Files streamed into the store, by archive path. */
    const stored = new Map<string, Digest>();
    const links = new Map<string, string>();
    let entries = 0;

    for await (const entry of readTar(stream)) {
      entries++;
      if (entry.type === "symlink" || entry.type === "hardlink") {
        const target = entry.type === "symlink" ? joinRelative(entry.name, entry.linkname) : entry.linkname.replace(/^(\.\/)+/, "");
        links.set(entry.name, target);
        continue;
      }
      if (entry.type !== "file") continue;
      const blob = OCI_BLOB.exec(entry.name);
      if (blob) {
        const digest = `sha256:${blob[1]}` as Digest;
        const id = shortDigest(digest);
        progress({ id, status: "loading", current: 0, total: entry.size });
        let done = 0;
        let lastReport = 0;
        await store.ingest({ digest, size: entry.size }, "the archive", async (w) => {
          for await (const chunk of entry.body()) {
            w.write(chunk);
            done += chunk.byteLength;
            if (done - lastReport >= 8 << 20) {
              lastReport = done;
              progress({ id, status: "loading", current: done, total: entry.size });
            }
          }
        });
        progress({ id, status: "loaded", current: entry.size, total: entry.size });
        stored.set(entry.name, digest);
      } else if (entry.size <= SMALL_FILE) {
        small.set(entry.name, await collect(entry.body(), entry.size));
      } else {
        const id = entry.name.split("/")[0]!.slice(0, 12);
        progress({ id, status: "loading", total: entry.size });
        const info = await store.putBlob(asStream(entry.body()), { size: entry.size });
        progress({ id, status: "loaded", current: entry.size, total: entry.size });
        stored.set(entry.name, info.digest);
      }
    }
    if (entries === 0) throw new ShedError("INVALID_REQUEST", "the archive is empty (expected an OCI archive or a docker save archive)");

    const resolveLink = (name: string): string => {
      let n = name;
      for (let i = 0; i < 16 && links.has(n); i++) n = links.get(n)!;
      return n;
    };
    const fileDigest = async (name: string): Promise<Digest | undefined> => {
      const real = resolveLink(name);
      const digest = stored.get(real);
      if (digest) return digest;
      const bytes = small.get(real);
      if (!bytes) return undefined;
      return (await store.putBlob(bytes)).digest;
    };

    let result: LoadResult;
    if (small.has("index.json")) {
      result = { format: "oci-archive", images: await loadOciLayout(store, small) };
    } else if (small.has("manifest.json")) {
      result = { format: "docker-archive", images: await dockerArchiveImages(store, small.get("manifest.json")!, resolveLink, small, fileDigest) };
    } else {
      throw new ShedError(
        "INVALID_REQUEST",
        "the archive has neither index.json (OCI archive) nor manifest.json (docker save archive); it is not an image archive",
      );
    }
    return applyTags(store, result, tag, opts.origin ?? "load");
  });
}

async function loadOciLayout(store: ContentStore, small: Map<string, Uint8Array>): Promise<LoadedImage[]> {
  const layout = small.get("oci-layout");
  if (layout) {
    const version = (JSON.parse(new TextDecoder().decode(layout)) as { imageLayoutVersion?: string }).imageLayoutVersion;
    if (version && !version.startsWith("1.")) {
      throw new ShedError("INVALID_REQUEST", `the archive is an OCI layout of version ${version}; only 1.x is supported`);
    }
  }
  const index = parseManifest(small.get("index.json")!, undefined, "the archive's index.json");
  if (index.kind !== "index") throw new ShedError("INVALID_REQUEST", "the archive's index.json is not an image index");
  const images: LoadedImage[] = [];
  for (const desc of index.index.manifests) {
    let digest = desc.digest as Digest;
    if (!store.hasBlob(digest)) {
      throw new ShedError("INVALID_REQUEST", `the archive's index.json names ${digest}, which the archive does not contain`);
    }
    const parsed = parseManifest(await store.readBlob(digest, MANIFEST_MAX_BYTES), desc.mediaType, digest);
    if (parsed.kind === "index") {
      // A multi-platform image: keep the server's platform, like a pull does.
      const chosen = selectPlatform(parsed.index.manifests, hostPlatform());
      if (!chosen || !store.hasBlob(chosen.digest as Digest)) {
        throw new ShedError("INVALID_REQUEST", `the archive has no ${formatPlatform(hostPlatform())} image for ${digest}`);
      }
      digest = chosen.digest as Digest;
    }
    const image = await store.manifestOf(digest);
    const missing = [image.config, ...image.layers].filter((d) => !store.hasBlob(d.digest as Digest));
    if (missing.length > 0) {
      throw new ShedError("INVALID_REQUEST", `the archive lacks blobs of image ${digest}: ${missing.map((d) => d.digest).join(", ")}`);
    }
    images.push({ digest, ...refFromAnnotations(desc.annotations) });
  }
  if (images.length === 0) throw new ShedError("INVALID_REQUEST", "the archive's index.json lists no images");
  return images;
}

/** The full name an OCI layout gives an image: containerd's annotation, or a ref.name that is a whole ref. */
function refFromAnnotations(annotations: Record<string, string> | undefined): { ref?: string } {
  const full = annotations?.["io.containerd.image.name"];
  const refName = annotations?.["org.opencontainers.image.ref.name"];
  for (const candidate of [full, refName]) {
    // A bare tag ("latest") names no repository: such images load untagged unless --tag is given.
    if (candidate && /[/:]/.test(candidate)) {
      const parsed = tryParseReference(candidate);
      if (parsed && !parsed.digest) return { ref: parsed.toString() };
    }
  }
  return {};
}

async function applyTags(store: ContentStore, result: LoadResult, tag: ReturnType<typeof parseReference> | undefined, origin: ImageOrigin): Promise<LoadResult> {
  const distinct = [...new Set(result.images.map((i) => i.digest))];
  if (tag && distinct.length > 1) {
    throw new ShedError("INVALID_REQUEST", `the archive holds ${distinct.length} images; --tag needs an archive with one`);
  }
  const images: LoadedImage[] = [];
  for (const image of result.images) {
    const ref = tag?.toString() ?? image.ref;
    if (ref) await store.tag(ref, image.digest, { origin });
    else await store.addUntagged(image.digest, origin);
    if (!images.some((i) => i.digest === image.digest && i.ref === ref)) images.push({ digest: image.digest, ...(ref ? { ref } : {}) });
  }
  return { ...result, images };
}

async function collect(body: AsyncIterable<Uint8Array>, size: number): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let off = 0;
  for await (const chunk of body) {
    out.set(chunk, off);
    off += chunk.byteLength;
  }
  return out;
}

function asStream(it: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iter = it[Symbol.asyncIterator]();
  return new ReadableStream({
    async pull(c) {
      const { value, done } = await iter.next();
      if (done) c.close();
      else c.enqueue(value);
    },
  });
}

function joinRelative(from: string, target: string): string {
  if (target.startsWith("/")) return target.slice(1);
  const parts = from.split("/").slice(0, -1);
  for (const p of target.split("/")) {
    if (p === "..") parts.pop();
    else if (p !== "." && p !== "") parts.push(p);
  }
  return parts.join("/");
}

