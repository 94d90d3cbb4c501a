import * as v from "valibot";
import { BackendNameSchema, SHED_NAME_PATTERN, ShedNameSchema } from "./shed.ts";

/** Snapshot names follow shed names (DNS labels): they are directory names and engine tags too. */
export const SnapshotNameSchema = v.pipe(
  v.string(),
  v.regex(SHED_NAME_PATTERN, "must be 1-63 lowercase letters, digits or hyphens, not starting with a hyphen"),
);

/** A snapshot as the API shows it (seed 003). */
export const SnapshotSchema = v.object({
  name: SnapshotNameSchema,
  backend: BackendNameSchema,
  /** The shed it was taken of (it may be gone since: snapshots outlive their source). */
  sourceShed: ShedNameSchema,
  comment: v.optional(v.string()),
  createdAt: v.string(),
  /** The image the source shed was made from, as it named it. */
  image: v.string(),
  /** What the snapshot sits on, pinned: the image's manifest digest (VMs), the committed image (Docker). */
  imageDigest: v.string(),
  /** Whether that image is still there (a snapshot pins it, so only a forced removal takes it). */
  imagePresent: v.boolean(),
  /** Apparent bytes captured (the disk; the writable layer plus the volume on Docker). */
  sizeBytes: v.number(),
  /** How the disk was copied: a reflink (shared extents) or a sparse copy. */
  copy: v.optional(v.picklist(["reflink", "copy"])),
  /** The source mounted a host directory at /workspace: its contents are not in the snapshot. */
  localDir: v.boolean(),
  cpus: v.number(),
  memoryMb: v.number(),
});
export type Snapshot = v.InferOutput<typeof SnapshotSchema>;

export const SnapshotListSchema = v.object({ snapshots: v.array(SnapshotSchema) });

export const CreateSnapshotRequestSchema = v.object({
  shed: ShedNameSchema,
  name: SnapshotNameSchema,
  comment: v.optional(v.pipe(v.string(), v.maxLength(1024, "must be at most 1024 characters"), v.regex(/^[^\0]*$/, "must not contain a NUL character"))),
});
export type CreateSnapshotRequest = v.InferOutput<typeof CreateSnapshotRequestSchema>;

/** What a snapshot create answers: the snapshot, and what the user should know (a --local-dir source). */
export const CreateSnapshotResultSchema = v.object({ ...SnapshotSchema.entries, warnings: v.optional(v.array(v.string())) });
