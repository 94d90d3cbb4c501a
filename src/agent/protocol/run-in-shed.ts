import type { AgentConnection, ExecRequest, ExitStatus } from "./api.ts";

export interface CommandResult extends ExitStatus {
  stdout: string;
  stderr: string;
}

/** Runs a short command through the agent and collects its output (stdin: `input`, or none). */
export async function runInShed(agent: AgentConnection, req: ExecRequest, input?: string): Promise<CommandResult> {
  const proc = await agent.exec(req);
  const writer = proc.stdin.getWriter();
  if (input !== undefined) await writer.write(new TextEncoder().encode(input)).catch(() => {});
  await writer.close().catch(() => {});
  const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exit]);
  return { ...status, stdout, stderr };
}
