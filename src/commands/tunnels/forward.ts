import { createServer, type Server } from "node:net";
import type { AgentConnection } from "../../agent/protocol/api.ts";
import { ShedError } from "../../api/errors.ts";
import { relayDuplex } from "../../api/stream-pump.ts";

export interface PortSpec {
  local: number;
  remote: number;
}

/** `8080` or `8080:80` (local:remote), as `-t` takes them. */
export function parsePortSpec(spec: string): PortSpec {
  const m = /^(\d{1,5})(?::(\d{1,5}))?$/.exec(spec.trim());
  const local = m ? Number(m[1]) : Number.NaN;
  const remote = m?.[2] ? Number(m[2]) : local;
  if (!m || local < 1 || local > 65535 || remote < 1 || remote > 65535) {
    throw new ShedError("USAGE", `-t takes PORT or LOCAL:REMOTE (1-65535), not "${spec}"`);
  }
  return { local, remote };
}

/**
 * Local listeners (127.0.0.1) that carry each connection to a port inside the shed, as a tcp
 * stream of one shared agent connection (many connections, one WebSocket). All ports are
 * bound before any is used, so a port in use fails the whole start clearly.
 */
export async function startForwards(specs: PortSpec[], agent: () => Promise<AgentConnection>, onError: (msg: string) => void): Promise<Server[]> {
  const servers: Server[] = [];
  try {
    for (const spec of specs) {
      const server = createServer((sock) => {
        sock.setNoDelay(true);
        sock.pause();
        agent()
          .then((a) => a.connectTcp(spec.remote))
          .then(
            (conn) => relayDuplex(sock.resume(), conn),
            (err) => {
              onError(`localhost:${spec.local} -> ${spec.remote}: ${(err as Error).message}`);
              sock.destroy();
            },
          );
      });
      await new Promise<void>((resolve, reject) => {
        server.once("error", (err: NodeJS.ErrnoException) =>
          reject(
            err.code === "EADDRINUSE"
              ? new ShedError("USAGE", `local port ${spec.local} is already in use; pick another (-t OTHER:${spec.remote}) or stop what uses it`)
              : err,
          ),
        );
        server.listen(spec.local, "127.0.0.1", () => resolve());
      });
      servers.push(server);
    }
  } catch (err) {
    for (const s of servers) s.close();
    throw err;
  }
  return servers;
}
