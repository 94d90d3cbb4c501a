import type { AgentConnection } from "../../agent/protocol/api.ts";
import { runInShed } from "../../agent/protocol/run-in-shed.ts";

const EVERY_MS = 1000;
/** TCP sockets in LISTEN state (0A) on any address or loopback, from the kernel's tables. */
const LISTENING = "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null";

/**
 * `tunnels start --auto`: asks the shed every second which TCP ports listen and calls
 * `found` for each one that was not listening before (as Lima and VS Code forward ports).
 */
export function watchListeningPorts(agent: () => Promise<AgentConnection>, found: (port: number) => Promise<void>): () => void {
  let stopped = false;
  const known = new Set<number>();
  void (async () => {
    while (!stopped) {
      try {
        const r = await runInShed(await agent(), { argv: ["sh", "-c", LISTENING], login: false });
        for (const port of listeningPorts(r.stdout)) {
          if (known.has(port)) continue;
          known.add(port);
          await found(port);
        }
      } catch {
        // the shed restarting: ask again next round
      }
      await Bun.sleep(EVERY_MS);
    }
  })();
  return () => {
    stopped = true;
  };
}

export function listeningPorts(procNetTcp: string): number[] {
  const ports = new Set<number>();
  for (const line of procNetTcp.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols[3] !== "0A") continue;
    const port = Number.parseInt(cols[1]?.split(":").at(-1) ?? "", 16);
    if (port > 0) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}
