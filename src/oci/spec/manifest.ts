import * as v from "valibot";
import { ShedError } from "../../api/errors.ts";
import { formatIssues } from "../../api/validation.ts";
import { isDigest } from "./digest.ts";
import { isIndexType, isManifestType, isSchema1Type, MediaType } from "./media-types.ts";

/**
 * Image manifests, indexes and configs as OCI (and Docker v2 schema 2) define them.
 * Loose objects: unknown fields are kept, so re-serialising never drops data, and
 * the bytes we store are always the bytes we got (digests are over bytes, not objects).
 */

/** Registries and layouts may hold manifests up to this size; more is refused unread. */
export const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;
/** Image configs are JSON too; a cap keeps a hostile registry from filling memory. */
export const CONFIG_MAX_BYTES = 8 * 1024 * 1024;

const DigestSchema = v.pipe(v.string(), v.check(isDigest, "must be sha256:<64 hex digits>"));

export const PlatformSchema = v.looseObject({
  architecture: v.string(),
  os: v.string(),
  variant: v.optional(v.string()),
  "os.version": v.optional(v.string()),
  "os.features": v.optional(v.array(v.string())),
});
export type Platform = v.InferOutput<typeof PlatformSchema>;

export const DescriptorSchema = v.looseObject({
  mediaType: v.string(),
  digest: DigestSchema,
  size: v.pipe(v.number(), v.integer(), v.minValue(0)),
  urls: v.optional(v.array(v.string())),
  annotations: v.optional(v.record(v.string(), v.string())),
  platform: v.optional(PlatformSchema),
  artifactType: v.optional(v.string()),
});
export type Descriptor = v.InferOutput<typeof DescriptorSchema>;

export const ImageManifestSchema = v.looseObject({
  schemaVersion: v.literal(2),
  mediaType: v.optional(v.string()),
  artifactType: v.optional(v.string()),
  config: DescriptorSchema,
  layers: v.array(DescriptorSchema),
  subject: v.optional(DescriptorSchema),
  annotations: v.optional(v.record(v.string(), v.string())),
});
export type ImageManifest = v.InferOutput<typeof ImageManifestSchema>;

export const ImageIndexSchema = v.looseObject({
  schemaVersion: v.literal(2),
  mediaType: v.optional(v.string()),
  manifests: v.array(DescriptorSchema),
  annotations: v.optional(v.record(v.string(), v.string())),
});
export type ImageIndex = v.InferOutput<typeof ImageIndexSchema>;

const HistorySchema = v.looseObject({
  created: v.optional(v.string()),
  created_by: v.optional(v.string()),
  author: v.optional(v.string()),
  comment: v.optional(v.string()),
  empty_layer: v.optional(v.boolean()),
});
export type HistoryEntry = v.InferOutput<typeof HistorySchema>;

export const ImageConfigSchema = v.looseObject({
  created: v.optional(v.string()),
  author: v.optional(v.string()),
  architecture: v.optional(v.string()),
  os: v.optional(v.string()),
  variant: v.optional(v.string()),
  config: v.optional(
    v.nullable(
      v.looseObject({
        User: v.optional(v.string()),
        Env: v.optional(v.nullable(v.array(v.string()))),
        Entrypoint: v.optional(v.nullable(v.array(v.string()))),
        Cmd: v.optional(v.nullable(v.array(v.string()))),
        WorkingDir: v.optional(v.string()),
        Labels: v.optional(v.nullable(v.record(v.string(), v.string()))),
        StopSignal: v.optional(v.string()),
      }),
    ),
  ),
  rootfs: v.optional(v.looseObject({ type: v.string(), diff_ids: v.array(v.string()) })),
  history: v.optional(v.nullable(v.array(HistorySchema))),
});
export type ImageConfig = v.InferOutput<typeof ImageConfigSchema>;

export type ParsedManifest =
  | { kind: "manifest"; mediaType: string; manifest: ImageManifest }
  | { kind: "index"; mediaType: string; index: ImageIndex };

/**
 * Parses manifest bytes from a registry or an archive. `contentType` (the HTTP header or a
 * descriptor's media type) is used when the document has no mediaType field of its own.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined, where: string): ParsedManifest {
  if (bytes.byteLength > MANIFEST_MAX_BYTES) {
    throw new ShedError("REGISTRY_ERROR", `the manifest of ${where} is ${bytes.byteLength} bytes, over the 4 MiB limit`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new ShedError("REGISTRY_ERROR", `the manifest of ${where} is not valid JSON: ${(err as Error).message}`);
  }
  const obj = (doc && typeof doc === "object" ? doc : {}) as Record<string, unknown>;
  const declared = typeof obj.mediaType === "string" ? obj.mediaType : contentType?.split(";")[0]?.trim();
  if (isSchema1Type(declared) || obj.schemaVersion === 1) {
    throw new ShedError(
      "REGISTRY_ERROR",
      `${where} is a Docker schema 1 image, which is deprecated and not supported; push it again with a current Docker or skopeo`,
    );
  }
  const isIndex = isIndexType(declared) || (!isManifestType(declared) && Array.isArray(obj.manifests));
  if (isIndex) {
    const r = v.safeParse(ImageIndexSchema, doc);
    if (!r.success) throw new ShedError("REGISTRY_ERROR", `the image index of ${where} is malformed: ${formatIssues(r.issues)}`);
    return { kind: "index", mediaType: declared ?? MediaType.ociIndex, index: r.output };
  }
  const r = v.safeParse(ImageManifestSchema, doc);
  if (!r.success) throw new ShedError("REGISTRY_ERROR", `the manifest of ${where} is malformed: ${formatIssues(r.issues)}`);
  return { kind: "manifest", mediaType: declared ?? MediaType.ociManifest, manifest: r.output };
}

export function parseConfig(bytes: Uint8Array, where: string): ImageConfig {
  if (bytes.byteLength > CONFIG_MAX_BYTES) {
    throw new ShedError("REGISTRY_ERROR", `the image config of ${where} is ${bytes.byteLength} bytes, over the 8 MiB limit`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new ShedError("REGISTRY_ERROR", `the image config of ${where} is not valid JSON: ${(err as Error).message}`);
  }
  const r = v.safeParse(ImageConfigSchema, doc);
  if (!r.success) throw new ShedError("REGISTRY_ERROR", `the image config of ${where} is malformed: ${formatIssues(r.issues)}`);
  return r.output;
}

/** Descriptors with duplicates (same digest) dropped, first kept: blobs to fetch or push once. */
export function uniqueDescriptors(descs: readonly Descriptor[]): Descriptor[] {
  const seen = new Set<string>();
  return descs.filter((d) => !seen.has(d.digest) && seen.add(d.digest));
}
