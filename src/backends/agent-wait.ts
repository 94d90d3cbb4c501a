import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";
import type { AgentConnection } from "../agent/protocol/api.ts";
import { ShedError } from "../api/errors.ts";

/**
 * Waits until the agent answers health. With `announce` (the path of the socket the agent
 * listens on, in a directory the host shares), the agent's own listen() is the signal: the
 * directory is watched and the agent dialed the moment its socket appears, so a create does not
 * sleep through a polling gap. Without one (or between events) it polls with a short backoff.
 * `alive` says why waiting is pointless (the container or VM died) so a failed start is
 * reported at once with its reason, not at timeout. With `keep`, the connection that answered
 * is handed over instead of closed: the server pools it, so the first use after a create
 * (provisioning, the first exec) does not dial and say hello again.
 */
export async function waitForAgent(opts: {
  dial: () => Promise<AgentConnection>;
  timeoutMs: number;
  alive: () => Promise<string | undefined>;
  announce?: string;
  keep?: (conn: AgentConnection) => void;
}): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const announced = opts.announce ? watchFor(opts.announce) : undefined;
  let lastError: unknown;
  let delay = 10;
  let over = false;
  // One dial and health; false when the agent is not there yet. Past the deadline (the race
  // below gave up on it) a late connection is closed, never kept.
  const attempt = async (): Promise<boolean> => {
    try {
      const conn = await opts.dial();
      let kept = false;
      try {
        const health = await conn.health();
        if (health.ok && !over) {
          if (opts.keep) {
            opts.keep(conn);
            kept = true;
          }
          return true;
        }
      } finally {
        if (!kept) conn.close();
      }
    } catch (err) {
      lastError = err;
    }
    return false;
  };
  try {
    while (Date.now() < deadline) {
      // A dial or health call that never answers must not outlast the deadline.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), Math.max(0, deadline - Date.now()))));
      const ready = await Promise.race([attempt(), late]).finally(() => clearTimeout(timer));
      if (ready === true) return;
      if (ready === "late") {
        over = true;
        lastError ??= new Error("a dial or health call was still waiting for the agent");
        break;
      }
      const dead = await opts.alive();
      if (dead) throw new ShedError("AGENT_UNAVAILABLE", `the shed did not start: ${dead}`);
      await (announced ? announced.next(delay) : Bun.sleep(delay));
      delay = Math.min(delay * 2, 250);
    }
  } finally {
    announced?.close();
  }
  throw new ShedError(
    "TIMEOUT",
    `the agent did not answer within ${Math.round(opts.timeoutMs / 1000)}s` +
      (lastError ? ` (last error: ${(lastError as Error).message})` : ""),
    { cause: lastError },
  );
}

/** Resolves `next(ms)` early when `path` is created or changed in its directory. */
function watchFor(path: string): { next(ms: number): Promise<void>; close(): void } {
  let wake: (() => void) | undefined;
  // An event while nobody waited (during a dial) makes the next wait return at once.
  let missed = false;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), (_event, file) => {
      if (file !== null && file !== basename(path)) return;
      if (wake) wake();
      else missed = true;
    });
    watcher.on("error", () => {});
  } catch {
    // No inotify here (or the directory is gone): polling alone still gets there.
  }
  return {
    next: (ms) =>
      new Promise<void>((resolve) => {
        if (missed) {
          missed = false;
          resolve();
          return;
        }
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      }),
    close: () => watcher?.close(),
  };
}
