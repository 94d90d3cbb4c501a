import type { AgentConnection } from "../agent/protocol/api.ts";
import { openShedAgent } from "../api/agent-client.ts";
import { ShedError } from "../api/errors.ts";
import { cli } from "./context.ts";

/**
 * The agent of a shed for an interactive command (console, attach): a stopped shed is
 * started first with a line saying so, as the original's console does, unless `noStart`.
 */
export async function agentOfRunningShed(name: string, noStart: boolean | undefined): Promise<AgentConnection> {
  const { out, globals } = cli();
  const client = cli().client();
  const shed = await client.getShed(name);
  if (shed.state === "stopped") {
    if (noStart) throw new ShedError("SHED_NOT_RUNNING", `shed "${name}" is stopped; start it with: shed start ${name}`);
    out.note(`Starting ${name} (it was stopped)...`);
    await client.shedAction(name, "start", undefined, out.progress);
  } else if (shed.state !== "running") {
    throw new ShedError("SHED_NOT_RUNNING", `shed "${name}" is ${shed.state}${shed.error ? ` (${shed.error})` : ""}; see shed info ${name}`);
  }
  return openShedAgent(client.endpoint, name, { timeoutMs: globals.timeoutMs });
}
