import type { AgentConnection } from "../agent/protocol/api.ts";
import { ShedError } from "../api/errors.ts";

/**
 * Polls until the agent answers health. `alive` says why waiting is pointless (the
 * container or VM died) so a failed start is reported at once with its reason, not at timeout.
 */
export async function waitForAgent(opts: {
  dial: () => Promise<AgentConnection>;
  timeoutMs: number;
  alive: () => Promise<string | undefined>;
}): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  let delay = 10;
  while (Date.now() < deadline) {
    try {
      const conn = await opts.dial();
      try {
        const health = await conn.health();
        if (health.ok) return;
      } finally {
        conn.close();
      }
    } catch (err) {
      lastError = err;
    }
    const dead = await opts.alive();
    if (dead) throw new ShedError("AGENT_UNAVAILABLE", `the shed did not start: ${dead}`);
    await Bun.sleep(delay);
    delay = Math.min(delay * 2, 250);
  }
  throw new ShedError(
    "TIMEOUT",
    `the agent did not answer within ${Math.round(opts.timeoutMs / 1000)}s` +
      (lastError ? ` (last error: ${(lastError as Error).message})` : ""),
    { cause: lastError },
  );
}
