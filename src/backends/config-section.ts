import * as v from "valibot";
import { CpusSchema, MemoryMbSchema } from "../api/schemas/shed.ts";

/**
 * What every backend's server.yaml section has: the server reads these (create's defaults,
 * image aliases, pull policy, stop timeout) without knowing the backend. A backend's own
 * section is `backendSection({...its keys})`; the server config composes the sections from
 * the registry (src/server/config/schema.ts).
 */
export const COMMON_SECTION_ENTRIES = {
  default_image: v.optional(v.string()),
  image_aliases: v.optional(v.record(v.string(), v.string()), {}),
  default_cpus: v.optional(CpusSchema, 2),
  default_memory_mb: v.optional(MemoryMbSchema, 4096),
  pull_policy: v.optional(v.picklist(["missing", "always", "never"]), "missing"),
  /** Where the backend's snapshots live (default `<state_dir>/<backend>/snapshots`); seed 003's name. */
  snapshots_dir: v.optional(v.pipe(v.string(), v.minLength(1))),
  /** The earlier spelling: read as snapshots_dir with a deprecation warning (config/load.ts). */
  snapshot_dir: v.optional(v.pipe(v.string(), v.minLength(1))),
  stop_timeout: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(3600, "must be at most 3600 s")), 10),
};

/** A section: the common keys plus the backend's own, strict (an unknown key is refused with its line). */
export function backendSection<E extends v.ObjectEntries>(own: E) {
  return v.strictObject({ ...COMMON_SECTION_ENTRIES, ...own });
}

export const CommonSectionSchema = backendSection({});
/** The part of any section the server reads. */
export type BackendSection = v.InferOutput<typeof CommonSectionSchema>;
