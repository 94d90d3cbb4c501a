import * as v from "valibot";

/** GET /api/sheds/{name}/logs: what the shed's VM console (or container) printed. */
export const ShedLogsSchema = v.object({
  name: v.string(),
  /** The last `tail` bytes (default 256 KiB), newest last; terminal escapes removed for VMs. */
  text: v.string(),
});
export type ShedLogs = v.InferOutput<typeof ShedLogsSchema>;

/** The most a logs call answers with. */
export const LOGS_MAX_TAIL = 16 * 1024 * 1024;

export const LogsQuerySchema = v.object({
  tail: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,9}$/, `must be a byte count of at most ${LOGS_MAX_TAIL}`),
      v.transform(Number),
      v.maxValue(LOGS_MAX_TAIL, `must be at most ${LOGS_MAX_TAIL} bytes`),
    ),
  ),
});
