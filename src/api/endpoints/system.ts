import { defineEndpoints } from "../endpoint.ts";
import { PruneSystemRequestSchema, PruneSystemResultSchema, SystemDfQuerySchema, SystemDfSchema } from "../schemas/system.ts";

/** /api/system: disk use and reclaiming it (disk is what runs out first: images are 2-5 GB each). */
export const SYSTEM_API = defineEndpoints({
  getSystemDf: {
    method: "get",
    path: "/api/system/df",
    query: SystemDfQuerySchema,
    summary: "Disk use per category (images, sheds, snapshots, logs, orphans): count, logical and physical bytes, what is reclaimable (verbose=true: each item)",
    response: SystemDfSchema,
  },
  pruneSystem: {
    method: "post",
    path: "/api/system/prune",
    summary: "Reclaim disk: unused images and orphans by default; instances without a shed and old logs when asked; never snapshots; nothing when a state file is unreadable",
    request: PruneSystemRequestSchema,
    response: PruneSystemResultSchema,
    errors: ["STATE_UNREADABLE"],
  },
});
