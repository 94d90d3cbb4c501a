import type { AgentConnection } from "../agent/protocol/api.ts";
import { openShedAgent } from "../api/agent-client.ts";
import { SHED_API } from "../api/endpoints/sheds.ts";
import { ShedError } from "../api/errors.ts";
import { cli } from "./context.ts";

/**
 * The agent of a shed for an interactive command (console, attach): a stopped shed is
 * started first with a line saying so, as the original's console does, unless `noStart`.
 */
export async function agentOfRunningShed(name: string, noStart: boolean | undefined): Promise<AgentConnection> {
  const { out } = cli();
  const client = cli().client();
  const shed = await client.call(SHED_API.getShed, { params: { name } });
  if (shed.state === "stopped") {
    if (noStart) throw new ShedError("SHED_NOT_RUNNING", `shed "${name}" is stopped; start it with: shed start ${name}`);
    out.note(`Starting ${name} (it was stopped)...`);
    await client.call(SHED_API.startShed, { params: { name }, onProgress: out.progress });
  } else if (shed.state !== "running") {
    throw new ShedError("SHED_NOT_RUNNING", `shed "${name}" is ${shed.state}${shed.error ? ` (${shed.error})` : ""}; see shed info ${name}`);
  }
  return openShedAgent(client, name);
}
