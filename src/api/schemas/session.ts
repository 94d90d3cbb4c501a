import * as v from "valibot";

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
