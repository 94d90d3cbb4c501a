import * as v from "valibot";

/** The image API (/api/images...): requests and answers, defined once. */

export const IMAGE_SOURCES = ["config", "user", "dangling"] as const;

export const ImageSummarySchema = v.object({
  /** Full normalised ref (`docker.io/library/busybox:latest`); absent for a dangling image. */
  ref: v.optional(v.string()),
  /** What people type and see (`busybox:latest`). */
  name: v.optional(v.string()),
  digest: v.string(),
  /** Bytes of manifest, config and layers (as stored, compressed). */
  size: v.number(),
  /** config: named by the server config (default_image, image_aliases); user: pulled, loaded, built or tagged; dangling: no ref. */
  source: v.picklist(IMAGE_SOURCES),
  /** The image's own creation time (its config), when it says. */
  created: v.optional(v.string()),
  /** When this ref was set in the store. */
  addedAt: v.optional(v.string()),
  origin: v.optional(v.string()),
  platform: v.optional(v.string()),
  /** Alias names of the config that point at this ref. */
  aliases: v.optional(v.array(v.string())),
});
export type ImageSummary = v.InferOutput<typeof ImageSummarySchema>;

export const ImageListSchema = v.object({ images: v.array(ImageSummarySchema) });

/**
 * An image ref, alias or digest wherever the API takes one (bodies and query strings): the
 * characters of the reference grammar, no empty or `..` path component. Checked before any
 * store or engine lookup.
 */
export const ImageRefParamSchema = v.pipe(
  v.string(),
  v.minLength(1, "an image ref must not be empty"),
  v.maxLength(1024, "an image ref is at most 1024 characters"),
  v.regex(/^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/, "an image ref is letters, digits and . _ : / @ + -, starting with a letter or digit"),
  v.check((ref) => !/(^|\/)\.{1,2}(\/|$|:|@)|\/\/|\/$/.test(ref), "an image ref has no empty, `.` or `..` path component"),
);
const RefString = ImageRefParamSchema;

/** A query parameter a route may take more than once: one value or several, always an array after parsing. */
const oneOrMany = <S extends v.GenericSchema<unknown, string>>(s: S) =>
  v.pipe(
    v.union([s, v.array(s)]),
    v.transform((x): string[] => (Array.isArray(x) ? x : [x])),
  );
const Flag = v.optional(v.picklist(["true", "false"]));

/** Query of DELETE /api/images. */
export const RemoveImageQuerySchema = v.object({ ref: ImageRefParamSchema, force: Flag });
/** Query of GET /api/images/inspect and /history. */
export const ImageRefQuerySchema = v.object({ ref: ImageRefParamSchema });
/** Query of GET /api/images/save. */
export const SaveImagesQuerySchema = v.object({ ref: oneOrMany(ImageRefParamSchema), format: v.optional(v.picklist(["oci", "docker"])) });
/** Query of POST /api/images/load. */
export const LoadImageQuerySchema = v.object({ tag: v.optional(ImageRefParamSchema) });

export const PullImageRequestSchema = v.object({
  ref: RefString,
  /** os/arch[/variant]; default: the server's. */
  platform: v.optional(v.pipe(v.string(), v.minLength(3), v.maxLength(64), v.regex(/^[a-z0-9_]+\/[a-z0-9_]+(\/[a-z0-9_]+)?$/, "a platform is os/arch[/variant]"))),
});
export type PullImageRequest = v.InferOutput<typeof PullImageRequestSchema>;

export const PullImageResultSchema = v.object({
  ref: v.string(),
  digest: v.string(),
  indexDigest: v.optional(v.string()),
  platform: v.optional(v.string()),
  size: v.number(),
  downloaded: v.number(),
  layers: v.number(),
});
export type PullImageResult = v.InferOutput<typeof PullImageResultSchema>;

export const PushImageRequestSchema = v.object({ source: RefString, destination: RefString });
export type PushImageRequest = v.InferOutput<typeof PushImageRequestSchema>;

export const PushImageResultSchema = v.object({
  ref: v.string(),
  digest: v.string(),
  size: v.number(),
  uploaded: v.number(),
  mounted: v.number(),
  existing: v.number(),
});
export type PushImageResult = v.InferOutput<typeof PushImageResultSchema>;

export const TagImageRequestSchema = v.object({ source: RefString, target: RefString });
export const TagImageResultSchema = v.object({ ref: v.string(), digest: v.string() });
export type TagImageResult = v.InferOutput<typeof TagImageResultSchema>;

const ImageRefSchema = v.object({ ref: v.optional(v.string()), digest: v.string() });

export const RemoveImageResultSchema = v.object({ removed: v.array(ImageRefSchema) });
export type RemoveImageResult = v.InferOutput<typeof RemoveImageResultSchema>;

export const PruneImagesRequestSchema = v.object({
  dryRun: v.optional(v.boolean()),
  /** Also remove tagged images no shed and no config entry uses. */
  all: v.optional(v.boolean()),
});
export type PruneImagesRequest = v.InferOutput<typeof PruneImagesRequestSchema>;

export const PruneImagesResultSchema = v.object({
  dryRun: v.boolean(),
  images: v.array(ImageRefSchema),
  blobs: v.number(),
  reclaimedBytes: v.number(),
  broken: v.array(v.object({ ref: v.optional(v.string()), digest: v.string(), missing: v.array(v.string()) })),
});
export type PruneImagesResult = v.InferOutput<typeof PruneImagesResultSchema>;

export const ImageHistoryEntrySchema = v.object({
  created: v.optional(v.string()),
  createdBy: v.optional(v.string()),
  comment: v.optional(v.string()),
  /** The layer's size (as stored); 0 for steps that made no layer. */
  size: v.number(),
  layer: v.optional(v.string()),
  emptyLayer: v.boolean(),
});
export type ImageHistoryEntry = v.InferOutput<typeof ImageHistoryEntrySchema>;

export const ImageHistorySchema = v.object({
  ref: v.optional(v.string()),
  digest: v.string(),
  /** Newest first, like `docker history`. */
  history: v.array(ImageHistoryEntrySchema),
});
export type ImageHistory = v.InferOutput<typeof ImageHistorySchema>;

export const ImageInspectSchema = v.object({
  ref: v.optional(v.string()),
  /** Every ref in the store that points at this manifest. */
  refs: v.array(v.string()),
  digest: v.string(),
  mediaType: v.string(),
  size: v.number(),
  platform: v.optional(v.string()),
  created: v.optional(v.string()),
  annotations: v.record(v.string(), v.string()),
  manifest: v.unknown(),
  config: v.unknown(),
  configDigest: v.string(),
  layers: v.array(v.object({ digest: v.string(), size: v.number(), mediaType: v.string() })),
});
export type ImageInspect = v.InferOutput<typeof ImageInspectSchema>;

export const LoadImageResultSchema = v.object({
  format: v.picklist(["oci-archive", "docker-archive"]),
  images: v.array(ImageRefSchema),
});
export type LoadImageResult = v.InferOutput<typeof LoadImageResultSchema>;

/** Query of POST /api/images/build (the body is the build context as a tar). */
export const BuildImageQuerySchema = v.object({
  dockerfile: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(4096), v.regex(/^[^\0]*$/, "must not contain a NUL character"))),
  tag: v.optional(RefString),
  target: v.optional(v.pipe(v.string(), v.maxLength(256), v.regex(/^[A-Za-z0-9._-]*$/, "a build target is a stage name"))),
  platform: v.optional(v.pipe(v.string(), v.maxLength(64), v.regex(/^[a-z0-9_]+\/[a-z0-9_]+(\/[a-z0-9_]+)?$/, "a platform is os/arch[/variant]"))),
  no_cache: Flag,
  /** K=V, repeatable. */
  build_arg: v.optional(oneOrMany(v.pipe(v.string(), v.maxLength(32_768), v.regex(/^[^=\0]+=[^\0]*$/, "a build arg is KEY=VALUE")))),
});
export type BuildImageQuery = v.InferOutput<typeof BuildImageQuerySchema>;

export const BuildImageResultSchema = v.object({
  ref: v.optional(v.string()),
  digest: v.string(),
  /** The builder's (Docker engine's) image id. */
  imageId: v.string(),
});
export type BuildImageResult = v.InferOutput<typeof BuildImageResultSchema>;
