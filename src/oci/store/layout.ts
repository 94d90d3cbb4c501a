import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import { type Digest, digestHex, isDigest, sha256Digest } from "../spec/digest.ts";
import { CONFIG_MAX_BYTES, type ImageManifest, type Platform, MANIFEST_MAX_BYTES, parseConfig, parseManifest } from "../spec/manifest.ts";
import { isIndexType } from "../spec/media-types.ts";
import { hostPlatform, listPlatforms, selectPlatform, formatPlatform } from "../spec/platform.ts";
import { tryParseReference } from "../spec/reference.ts";
import { BlobWriter } from "./blob-writer.ts";
import { installFile, storageError, writeFileAtomic } from "./fs-ops.ts";
import type { BlobInfo, BlobSource, ContentStore, ImageOrigin, RefEntry, StoredImage } from "./index.ts";
import { OnceMap, SweepLock } from "./locks.ts";
import { emptyIndex, RefIndex } from "./ref-index.ts";

/** Opens (creating when needed) the OCI image layout at `root`. */
export function openContentStore(root: string): OciStore {
  try {
    mkdirSync(join(root, "blobs", "sha256"), { recursive: true });
    mkdirSync(join(root, "tmp"), { recursive: true });
    if (!existsSync(join(root, "oci-layout"))) writeFileSync(join(root, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}\n');
    if (!existsSync(join(root, "index.json"))) writeFileAtomic(join(root, "index.json"), emptyIndex(), "creating the image store");
  } catch (err) {
    throw storageError(err, `creating the image store at ${root}`);
  }
  return new OciStore(root);
}

/**
 * Opens an OCI image layout another tool (or a build) wrote, without changing it unless it is
 * written to: `oci:/path/to/layout:ref` images are read through the same checked code as the
 * store's own (manifests and configs validated, blobs by digest).
 */
export function openLayout(dir: string, forRef = `oci:${dir}`): OciStore {
  if (!existsSync(join(dir, "index.json"))) {
    throw new ShedError("IMAGE_NOT_FOUND", `no OCI image layout at ${dir} (no index.json) for image "${forRef}"`);
  }
  const version = readLayoutVersion(dir);
  if (version !== undefined && !version.startsWith("1.")) {
    throw new ShedError("INVALID_REQUEST", `${dir} is an OCI image layout of version ${version}; only 1.x is supported`);
  }
  return new OciStore(dir);
}

function readLayoutVersion(dir: string): string | undefined {
  try {
    const doc = JSON.parse(readFileSync(join(dir, "oci-layout"), "utf8")) as { imageLayoutVersion?: unknown };
    return typeof doc.imageLayoutVersion === "string" ? doc.imageLayoutVersion : undefined;
  } catch {
    return undefined;
  }
}

export class OciStore implements ContentStore {
  private readonly index: RefIndex;
  private readonly ingesting = new OnceMap<BlobInfo>();
  private readonly manifests = new Map<Digest, ImageManifest>();
  /** Shared by everything that adds blobs; prune takes it exclusively. */
  readonly sweep = new SweepLock();

  constructor(readonly root: string) {
    this.index = new RefIndex(join(root, "index.json"));
  }

  get tmpDir(): string {
    return join(this.root, "tmp");
  }

  blobPath(digest: Digest): string {
    return join(this.root, "blobs", "sha256", digestHex(digest));
  }

  hasBlob(digest: Digest): boolean {
    return existsSync(this.blobPath(digest));
  }

  blobSize(digest: Digest): number | undefined {
    try {
      return statSync(this.blobPath(digest)).size;
    } catch {
      return undefined;
    }
  }

  openBlob(digest: Digest): ReadableStream<Uint8Array> {
    if (!this.hasBlob(digest)) throw missingBlob(digest);
    return Bun.file(this.blobPath(digest)).stream();
  }

  async readBlob(digest: Digest, maxBytes = CONFIG_MAX_BYTES): Promise<Uint8Array> {
    const size = this.blobSize(digest);
    if (size === undefined) throw missingBlob(digest);
    if (size > maxBytes) throw new ShedError("INVALID_REQUEST", `blob ${digest} is ${size} bytes, more than the ${maxBytes} expected`);
    return new Uint8Array(await Bun.file(this.blobPath(digest)).arrayBuffer());
  }

  /**
   * Writes a blob through `fill` into a temp file and installs it once its size and digest
   * are right; concurrent calls for one digest share a single write. With `resume`, a
   * `.partial` left by an interrupted attempt is continued (`writer.offset` says from where)
   * and kept again on a non-storage failure, so the next attempt continues too.
   */
  async ingest(
    expect: BlobInfo,
    where: string,
    fill: (writer: BlobWriter) => Promise<void>,
    opts: { resume?: boolean } = {},
  ): Promise<BlobInfo & { existed: boolean }> {
    if (this.hasBlob(expect.digest)) return { ...expect, existed: true };
    const info = await this.ingesting.run(expect.digest, async () => {
      if (this.hasBlob(expect.digest)) return expect;
      const hex = digestHex(expect.digest);
      const path = join(this.tmpDir, opts.resume ? `${hex}.partial` : `${hex}.${randomSuffix()}.tmp`);
      const writer = BlobWriter.open(path, opts.resume ?? false, expect.size);
      try {
        await fill(writer);
        const got = writer.finish();
        writer.close();
        if (got.size !== expect.size || got.digest !== expect.digest) {
          rmSync(path, { force: true });
          throw new ShedError(
            "DIGEST_MISMATCH",
            `the blob ${expect.digest} from ${where} does not match its descriptor: expected ${expect.size} bytes with that digest, ` +
              `got ${got.size} bytes with digest ${got.digest}; it was not kept (the source is corrupt or was tampered with)`,
          );
        }
        installFile(path, this.blobPath(expect.digest));
        return expect;
      } catch (err) {
        const keep = opts.resume && !(err instanceof ShedError && (err.code === "STORAGE_FULL" || err.code === "DIGEST_MISMATCH"));
        if (keep) writer.close();
        else writer.discard();
        throw err instanceof ShedError ? err : storageError(err, `storing blob ${expect.digest}`);
      }
    });
    return { ...info, existed: false };
  }

  async putBlob(source: BlobSource, expect: Partial<BlobInfo> = {}): Promise<BlobInfo> {
    if (expect.digest && expect.size !== undefined) {
      if (!(source instanceof Uint8Array) && !(source instanceof ReadableStream) && (await this.tryLink(source.path, expect as BlobInfo))) {
        return expect as BlobInfo;
      }
      const { existed: _, ...info } = await this.ingest(expect as BlobInfo, "the caller", (w) => pour(source, w));
      return info;
    }
    // Digest not known up front: write, hash, then install under the digest found.
    const path = join(this.tmpDir, `put.${randomSuffix()}.tmp`);
    const writer = BlobWriter.open(path, false, 0);
    try {
      await pour(source, writer);
      const got = writer.finish();
      writer.close();
      if (expect.digest && got.digest !== expect.digest) throw mismatch(expect.digest, got.digest);
      if (expect.size !== undefined && got.size !== expect.size) throw mismatch(got.digest, got.digest, expect.size, got.size);
      if (this.hasBlob(got.digest)) rmSync(path, { force: true });
      else installFile(path, this.blobPath(got.digest));
      return got;
    } catch (err) {
      writer.discard();
      throw storageError(err, "storing a blob");
    }
  }

  async putManifest(bytes: Uint8Array, mediaType: string): Promise<BlobInfo> {
    if (bytes.byteLength > MANIFEST_MAX_BYTES) {
      throw new ShedError("INVALID_REQUEST", `a manifest of ${bytes.byteLength} bytes is over the 4 MiB limit`);
    }
    const parsed = parseManifest(bytes, mediaType, "the manifest being stored");
    const children =
      parsed.kind === "index" ? parsed.index.manifests : [parsed.manifest.config, ...parsed.manifest.layers];
    const absent = children.filter((d) => !this.hasBlob(d.digest as Digest)).map((d) => d.digest);
    if (absent.length > 0) {
      throw new ShedError("INVALID_REQUEST", `cannot store a manifest whose blobs are not in the store: ${absent.join(", ")}`);
    }
    const digest = sha256Digest(bytes);
    return this.putBlob(bytes, { digest, size: bytes.byteLength });
  }

  async tryResolve(ref: string): Promise<StoredImage | undefined> {
    const found = this.lookup(ref);
    if (!found) return undefined;
    return this.load(found.digest, found.ref, found.mediaType);
  }

  async resolve(ref: string): Promise<StoredImage> {
    const image = await this.tryResolve(ref);
    if (image) return image;
    throw new ShedError(
      "IMAGE_NOT_FOUND",
      `image "${ref}" is not in the server's image store; pull it with \`shed image pull ${ref}\` or list what is there with \`shed image ls\``,
    );
  }

  /** The index entry (or bare digest) a user's string names, without reading blobs. */
  lookup(input: string): { digest: Digest; ref?: string; mediaType?: string } | undefined {
    const s = input.trim();
    if (isDigest(s)) return this.hasBlob(s) ? { digest: s, ...this.mediaTypeOf(s) } : undefined;
    const parsed = tryParseReference(s);
    if (parsed?.digest) {
      if (!this.hasBlob(parsed.digest)) return undefined;
      const named = this.index.find(parsed.toString());
      return { digest: parsed.digest, ...(named?.ref ? { ref: named.ref } : {}), ...this.mediaTypeOf(parsed.digest) };
    }
    if (parsed) {
      const entry = this.index.find(parsed.toString());
      if (entry) return { digest: entry.digest, ref: entry.ref, mediaType: entry.mediaType };
    }
    // A layout another tool wrote may name an image by a bare tag (`latest`) or any string.
    const exact = this.index.find(s);
    if (exact) return { digest: exact.digest, ref: exact.ref, mediaType: exact.mediaType };
    const prefix = s.replace(/^sha256:/, "");
    if (/^[a-f0-9]{6,64}$/.test(prefix)) {
      const digests = [...new Set(this.index.entries().map((e) => e.digest))].filter((d) => digestHex(d).startsWith(prefix));
      if (digests.length === 1) return { digest: digests[0]!, ...this.mediaTypeOf(digests[0]!) };
      if (digests.length > 1) {
        throw new ShedError("INVALID_REQUEST", `"${input}" matches ${digests.length} images; give more digits of the digest`);
      }
    }
    return undefined;
  }

  async tag(ref: string, manifestDigest: Digest, opts: { origin?: ImageOrigin; platform?: Platform } = {}): Promise<void> {
    const parsed = tryParseReference(ref);
    if (!parsed) throw new ShedError("INVALID_REQUEST", `"${ref}" is not an image reference to tag an image with`);
    // name@digest is kept as a ref too (what a pull by digest was asked for), but only for that digest.
    if (parsed.digest && parsed.digest !== manifestDigest) {
      throw new ShedError("INVALID_REQUEST", `"${ref}" names digest ${parsed.digest}, so it cannot point at ${manifestDigest}`);
    }
    const size = this.blobSize(manifestDigest);
    if (size === undefined) throw missingBlob(manifestDigest);
    const bytes = await this.readBlob(manifestDigest, MANIFEST_MAX_BYTES);
    const parsedManifest = parseManifest(bytes, undefined, manifestDigest);
    this.index.set(
      parsed.toString(),
      { digest: manifestDigest, mediaType: parsedManifest.mediaType, size },
      opts.origin ?? "tag",
      opts.platform,
    );
  }

  /** Lists a manifest with no ref (an untagged image that was loaded). */
  async addUntagged(manifestDigest: Digest, origin: ImageOrigin): Promise<void> {
    const bytes = await this.readBlob(manifestDigest, MANIFEST_MAX_BYTES);
    const parsed = parseManifest(bytes, undefined, manifestDigest);
    this.index.addDangling({ digest: manifestDigest, mediaType: parsed.mediaType, size: bytes.byteLength }, origin);
  }

  async untag(ref: string): Promise<boolean> {
    const parsed = tryParseReference(ref);
    return parsed ? this.index.remove({ ref: parsed.toString() }) > 0 : false;
  }

  /** Removes every ref of a manifest and its dangling entry. */
  removeDigest(digest: Digest): number {
    return this.index.remove({ digest });
  }

  list(): RefEntry[] {
    return this.index.entries();
  }

  /** Blobs on disk: digest and size (for prune). */
  allBlobs(): BlobInfo[] {
    const dir = join(this.root, "blobs", "sha256");
    return readdirSync(dir)
      .filter((hex) => /^[a-f0-9]{64}$/.test(hex))
      .map((hex) => ({ digest: `sha256:${hex}` as Digest, size: this.blobSize(`sha256:${hex}`) ?? 0 }));
  }

  /** A manifest by digest, parsed once (manifests never change). */
  async manifestOf(digest: Digest): Promise<ImageManifest> {
    const cached = this.manifests.get(digest);
    if (cached) return cached;
    const bytes = await this.readBlob(digest, MANIFEST_MAX_BYTES);
    const parsed = parseManifest(bytes, undefined, digest);
    if (parsed.kind !== "manifest") throw new ShedError("INVALID_REQUEST", `${digest} is an image index, not an image manifest`);
    this.manifests.set(digest, parsed.manifest);
    return parsed.manifest;
  }

  private mediaTypeOf(digest: Digest): { mediaType?: string } {
    const entry = this.index.entries().find((e) => e.digest === digest);
    return entry ? { mediaType: entry.mediaType } : {};
  }

  private async load(digest: Digest, ref: string | undefined, mediaType: string | undefined): Promise<StoredImage> {
    const bytes = await this.readBlob(digest, MANIFEST_MAX_BYTES);
    const parsed = parseManifest(bytes, mediaType, ref ?? digest);
    if (parsed.kind === "index" || isIndexType(mediaType)) {
      if (parsed.kind !== "index") throw new ShedError("INTERNAL", `${digest} is listed as an index but is a manifest`);
      // An index stored whole (from an OCI archive): the server's platform is the image.
      const want = hostPlatform();
      const chosen = selectPlatform(parsed.index.manifests, want);
      if (!chosen || !this.hasBlob(chosen.digest as Digest)) {
        throw new ShedError(
          "IMAGE_NOT_FOUND",
          `image "${ref ?? digest}" has no ${formatPlatform(want)} image in the store (it has: ${listPlatforms(parsed.index.manifests).join(", ") || "none"})`,
        );
      }
      return this.load(chosen.digest as Digest, ref, chosen.mediaType);
    }
    const manifest = parsed.manifest;
    const configDigest = manifest.config.digest as Digest;
    const config = parseConfig(await this.readBlob(configDigest), ref ?? digest);
    return {
      ...(ref ? { ref } : {}),
      manifestDigest: digest,
      manifestMediaType: parsed.mediaType,
      manifestSize: bytes.byteLength,
      manifest,
      configDigest,
      config,
      layers: manifest.layers,
    };
  }

  /** Hard-links a file that already has the expected digest (a build's layer); false when it cannot. */
  private async tryLink(path: string, expect: BlobInfo): Promise<boolean> {
    if (this.hasBlob(expect.digest)) return true;
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      throw new ShedError("INVALID_REQUEST", `cannot read ${path} to store it`);
    }
    const tmp = join(this.tmpDir, `link.${randomSuffix()}.tmp`);
    try {
      linkSync(path, tmp);
    } catch {
      return false;
    }
    const hasher = new Bun.CryptoHasher("sha256");
    for await (const chunk of Bun.file(tmp).stream()) hasher.update(chunk);
    const digest = `sha256:${hasher.digest("hex")}`;
    if (digest !== expect.digest || size !== expect.size) {
      rmSync(tmp, { force: true });
      throw mismatch(expect.digest, digest as Digest, expect.size, size);
    }
    installFile(tmp, this.blobPath(expect.digest));
    return true;
  }
}

async function pour(source: BlobSource, writer: BlobWriter): Promise<void> {
  if (source instanceof Uint8Array) {
    writer.write(source);
    return;
  }
  const stream = source instanceof ReadableStream ? source : Bun.file(source.path).stream();
  for await (const chunk of stream) writer.write(chunk);
}

function missingBlob(digest: string): ShedError {
  return new ShedError("IMAGE_NOT_FOUND", `blob ${digest} is not in the image store`);
}

function mismatch(expected: Digest, got: Digest, expectedSize?: number, gotSize?: number): ShedError {
  const sizes = expectedSize !== undefined && gotSize !== undefined ? ` (${expectedSize} bytes expected, ${gotSize} given)` : "";
  return new ShedError("DIGEST_MISMATCH", `content does not match: expected ${expected}, got ${got}${sizes}; not kept`);
}

function randomSuffix(): string {
  return `${process.pid}.${Math.random().toString(36).slice(2, 10)}`;
}
