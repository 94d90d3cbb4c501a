import * as v from "valibot";

export const DISK_CATEGORIES = ["images", "sheds", "snapshots", "logs", "orphans", "other"] as const;
export const DiskCategorySchema = v.picklist(DISK_CATEGORIES);
export type DiskCategory = v.InferOutput<typeof DiskCategorySchema>;

/** One thing on disk: a shed's disk, a snapshot, the image store's blobs, a console log. */
export const DiskItemSchema = v.object({
  name: v.string(),
  logicalBytes: v.number(),
  physicalBytes: v.number(),
  /** Outside the state dir (a container engine's own storage), as its owner counts it. */
  external: v.optional(v.boolean()),
});

export const DiskCategoryUsageSchema = v.object({
  category: DiskCategorySchema,
  count: v.number(),
  /** Apparent bytes (du --apparent-size): what the files say. */
  logicalBytes: v.number(),
  /** Bytes the disk gives them (du): holes in sparse files are not counted. */
  physicalBytes: v.number(),
  /** What `system prune` with this category would free. */
  reclaimableBytes: v.number(),
  items: v.optional(v.array(DiskItemSchema)),
});

export const SystemDfSchema = v.object({
  server: v.optional(v.string()),
  categories: v.array(DiskCategoryUsageSchema),
  /** Of what lives in the state dir: the sum over the categories. */
  totals: v.object({ logicalBytes: v.number(), physicalBytes: v.number(), reclaimableBytes: v.number() }),
  /** Reflink-shared extents counted once: this much less than the per-file sum (du counts them per file). */
  sharedBytes: v.number(),
  /** State files that could not be read (prune refuses to run while there are any). */
  unreadable: v.optional(v.array(v.string())),
});
export type SystemDf = v.InferOutput<typeof SystemDfSchema>;

export const SystemDfQuerySchema = v.object({ verbose: v.optional(v.picklist(["true", "false"])) });

export const PruneSystemRequestSchema = v.object({
  images: v.optional(v.boolean()),
  instances: v.optional(v.boolean()),
  logs: v.optional(v.boolean()),
  orphans: v.optional(v.boolean()),
  /** Only what is older than this many seconds (orphans, instances, logs; images the store got before then). */
  untilSeconds: v.optional(v.pipe(v.number(), v.minValue(0))),
  dryRun: v.optional(v.boolean()),
});
export type PruneSystemRequest = v.InferOutput<typeof PruneSystemRequestSchema>;

export const PruneSystemResultSchema = v.object({
  dryRun: v.boolean(),
  /** What was (dry run: would be) removed, in order. */
  removed: v.array(v.object({ category: DiskCategorySchema, name: v.string(), bytes: v.number() })),
  reclaimedBytes: v.number(),
});
export type PruneSystemResult = v.InferOutput<typeof PruneSystemResultSchema>;
