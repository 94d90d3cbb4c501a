import * as v from "valibot";

/** GET /api/sheds/{name}/logs: what the shed's VM console (or container) printed. */
export const ShedLogsSchema = v.object({
  name: v.string(),
  /** The last `tail` bytes (default 256 KiB), newest last; terminal escapes removed for VMs. */
  text: v.string(),
});
export type ShedLogs = v.InferOutput<typeof ShedLogsSchema>;

export const LogsQuerySchema = v.object({
  tail: v.optional(v.pipe(v.string(), v.regex(/^\d+$/, "must be a byte count"))),
});
