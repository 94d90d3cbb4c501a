import type { AgentConnection } from "../../agent/protocol/api.ts";
import { ShedError } from "../../api/errors.ts";
import type { TmuxSession } from "../../api/schemas/session.ts";
import { runInShed } from "../../agent/protocol/run-in-shed.ts";

/**
 * tmux sessions of the shed user, read and killed through the agent. tmux's own server
 * keeps them alive across SSH disconnects; this only looks and ends them.
 */
// tmux prints control characters as "_", so no tab: ':' cannot be in a session name.
const FORMAT = "#{session_name}:#{session_windows}:#{session_attached}:#{session_created}:#{pane_current_command}";

export async function listTmuxSessions(agent: AgentConnection): Promise<TmuxSession[]> {
  const r = await runInShed(agent, { argv: ["tmux", "list-sessions", "-F", FORMAT] });
  // No tmux server yet (no sessions), or no tmux in the image: nothing to list.
  if (r.code !== 0) return [];
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [name = "", windows = "0", attached = "0", created = "0", ...command] = line.split(":");
      return {
        name,
        windows: Number(windows),
        attached: Number(attached) > 0,
        created: new Date(Number(created) * 1000).toISOString(),
        command: command.join(":"),
      };
    });
}

export async function killTmuxSession(agent: AgentConnection, session: string): Promise<void> {
  const r = await runInShed(agent, { argv: ["tmux", "kill-session", "-t", `=${session}`] });
  if (r.code !== 0) {
    throw new ShedError("SESSION_NOT_FOUND", `no tmux session "${session}" in this shed (shed sessions lists them)`);
  }
}
