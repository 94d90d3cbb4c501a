import * as v from "valibot";

/** What a session name may be (tmux would rewrite `.` and `:`; `..` must never reach a path). */
export const SessionNameSchema = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$/, "must be 1-63 letters, digits, '_' or '-', not starting with '-'"),
);

/** A tmux session of the shed user (`shed attach` makes them; they outlive disconnects). */
export const TmuxSessionSchema = v.object({
  name: v.string(),
  windows: v.number(),
  attached: v.boolean(),
  /** ISO time the session was made. */
  created: v.string(),
  /** What runs in its active pane (claude, bash, ...). */
  command: v.string(),
});
export type TmuxSession = v.InferOutput<typeof TmuxSessionSchema>;

export const SessionListSchema = v.object({ shed: v.string(), sessions: v.array(TmuxSessionSchema) });
export type SessionList = v.InferOutput<typeof SessionListSchema>;
