import type { AgentConnection, ExecRequest } from "../../agent/protocol/api.ts";
import type { Progress } from "../../api/schemas/shed.ts";

/** Bytes of output kept (for the step's log file). */
const OUTPUT_CAP = 4 * 1024 * 1024;

export interface StreamedResult {
  code: number;
  /** The budget ran out and the command was killed. */
  timedOut: boolean;
  /** stdout and stderr as they came, at most 4 MiB. */
  output: string;
}

/**
 * Runs a provisioning step in the shed (clone, a hook), streaming every output line as
 * progress under `id`, killing it when `budgetMs` runs out.
 */
export async function runStreamed(
  agent: AgentConnection,
  req: ExecRequest,
  opts: { id: string; progress: Progress; budgetMs?: number },
): Promise<StreamedResult> {
  const proc = await agent.exec(req);
  await proc.stdin.close().catch(() => {});
  let timedOut = false;
  const timer =
    opts.budgetMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          proc.signal("SIGKILL");
        }, Math.max(0, opts.budgetMs));
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      if (output.length < OUTPUT_CAP) output += text;
      pending += text;
      // git's progress rewrites its line with \r: each rewrite is a line of its own here.
      const lines = pending.split(/\r?\n|\r/);
      pending = lines.pop() ?? "";
      for (const line of lines) if (line) opts.progress({ id: opts.id, status: line });
    }
    if (pending) opts.progress({ id: opts.id, status: pending });
  };
  try {
    await Promise.all([collect(proc.stdout), collect(proc.stderr)]);
    const status = await proc.exit;
    return { code: status.code, timedOut, output };
  } finally {
    clearTimeout(timer);
  }
}
