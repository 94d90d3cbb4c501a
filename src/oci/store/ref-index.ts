import { existsSync, readFileSync } from "node:fs";
import { ShedError } from "../../api/errors.ts";
import { type Digest, isDigest } from "../spec/digest.ts";
import { MediaType } from "../spec/media-types.ts";
import type { Platform } from "../spec/manifest.ts";
import { writeFileAtomic } from "./fs-ops.ts";
import type { ImageOrigin, RefEntry } from "./index.ts";

/**
 * index.json of the layout as the ref index. The OCI annotation carries the ref; two of
 * our own carry when and how it got here. Unknown entries (written by another tool) are kept.
 */
export const REF_NAME = "org.opencontainers.image.ref.name";
const ADDED = "dev.shed.image.added";
const ORIGIN = "dev.shed.image.origin";

interface IndexDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  [k: string]: unknown;
}

interface IndexFile {
  schemaVersion: 2;
  mediaType?: string;
  manifests: IndexDescriptor[];
  [k: string]: unknown;
}

const ORIGINS: ImageOrigin[] = ["pull", "load", "build", "tag"];

export class RefIndex {
  private file: IndexFile;

  constructor(private readonly path: string) {
    this.file = readIndex(path);
  }

  entries(): RefEntry[] {
    return this.file.manifests.filter((m) => isDigest(m.digest)).map(toEntry);
  }

  find(ref: string): RefEntry | undefined {
    return this.entries().find((e) => e.ref === ref);
  }

  /** Sets ref -> digest; the manifest it pointed at stays as a dangling entry if nothing else refers to it. */
  set(ref: string, desc: { digest: Digest; mediaType: string; size: number }, origin: ImageOrigin, platform?: Platform): void {
    const old = this.find(ref);
    const manifests = this.file.manifests.filter(
      (m) => m.annotations?.[REF_NAME] !== ref && !(m.digest === desc.digest && !m.annotations?.[REF_NAME]),
    );
    manifests.push({
      mediaType: desc.mediaType,
      digest: desc.digest,
      size: desc.size,
      annotations: { [REF_NAME]: ref, [ADDED]: new Date().toISOString(), [ORIGIN]: origin },
      ...(platform ? { platform } : {}),
    });
    if (old && old.digest !== desc.digest && !manifests.some((m) => m.digest === old.digest)) {
      manifests.push({
        mediaType: old.mediaType,
        digest: old.digest,
        size: old.size,
        annotations: { [ADDED]: old.addedAt, [ORIGIN]: old.origin },
        ...(old.platform ? { platform: old.platform } : {}),
      });
    }
    this.write({ ...this.file, manifests });
  }

  /** Adds a manifest with no ref (a load of an untagged image) unless it is already listed. */
  addDangling(desc: { digest: Digest; mediaType: string; size: number }, origin: ImageOrigin): void {
    if (this.file.manifests.some((m) => m.digest === desc.digest)) return;
    const entry = { ...desc, annotations: { [ADDED]: new Date().toISOString(), [ORIGIN]: origin } };
    this.write({ ...this.file, manifests: [...this.file.manifests, entry] });
  }

  /** Removes entries (by ref, or every entry of a digest); returns how many went. */
  remove(match: { ref?: string; digest?: Digest }): number {
    const keep = this.file.manifests.filter((m) =>
      match.ref !== undefined ? m.annotations?.[REF_NAME] !== match.ref : m.digest !== match.digest,
    );
    const removed = this.file.manifests.length - keep.length;
    if (removed > 0) this.write({ ...this.file, manifests: keep });
    return removed;
  }

  private write(next: IndexFile): void {
    writeFileAtomic(this.path, `${JSON.stringify(next, null, 2)}\n`, "writing the image ref index");
    this.file = next;
  }
}

export function emptyIndex(): string {
  return `${JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }, null, 2)}\n`;
}

function readIndex(path: string): IndexFile {
  if (!existsSync(path)) return JSON.parse(emptyIndex()) as IndexFile;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ShedError(
      "INTERNAL",
      `the image ref index ${path} is not valid JSON (${(err as Error).message}); move it aside to start an empty one`,
    );
  }
  const file = doc as IndexFile;
  if (!file || !Array.isArray(file.manifests)) {
    throw new ShedError("INTERNAL", `the image ref index ${path} has no manifests list; move it aside to start an empty one`);
  }
  return file;
}

function toEntry(m: IndexDescriptor): RefEntry {
  const origin = m.annotations?.[ORIGIN] as ImageOrigin | undefined;
  return {
    ...(m.annotations?.[REF_NAME] ? { ref: m.annotations[REF_NAME] } : {}),
    digest: m.digest as Digest,
    mediaType: m.mediaType,
    size: m.size,
    addedAt: m.annotations?.[ADDED] ?? "",
    origin: origin && ORIGINS.includes(origin) ? origin : "load",
    ...(m.platform ? { platform: m.platform } : {}),
  };
}
