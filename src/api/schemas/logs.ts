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

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: a duration back from now (`10m`, `1h30m`, `2d`) or a time (`2026-12-01T10:00:00Z`). */
export const SinceSchema = v.pipe(
  v.string(),
  v.maxLength(40, "must be a duration such as 10m or 1h30m, or a time such as 2026-12-01T10:00:00Z"),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const text = dataset.value;
    if (/^(\d+[smhd])+$/.test(text)) {
      let ms = 0;
      for (const [, n, unit] of text.matchAll(/(\d+)([smhd])/g)) ms += Number(n) * UNITS[unit!]!;
      return new Date(Date.now() - ms);
    }
    const at = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(text) ? new Date(text) : undefined;
    if (at && !Number.isNaN(at.getTime())) return at;
    addIssue({ message: `"${text}" is neither a duration such as 10m or 1h30m nor a time such as 2026-12-01T10:00:00Z` });
    return NEVER;
  }),
);

export const LogsQuerySchema = v.object({
  /** Only what was printed from then on (backends whose logs carry times: features.logSince). */
  since: v.optional(SinceSchema),
  tail: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,9}$/, `must be a byte count of at most ${LOGS_MAX_TAIL}`),
      v.transform(Number),
      v.maxValue(LOGS_MAX_TAIL, `must be at most ${LOGS_MAX_TAIL} bytes`),
    ),
  ),
});

/** GET /api/sheds/{name}/logs/follow: how many of the last lines come first. */
export const FollowLogsQuerySchema = v.object({
  lines: v.optional(v.pipe(v.string(), v.regex(/^\d{1,7}$/, "must be a line count"), v.transform(Number))),
});
