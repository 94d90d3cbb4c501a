import { randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import type { Connection } from "ssh2";
import type { AgentConnection } from "../../agent/protocol/api.ts";
import { relayDuplex } from "../../api/stream-pump.ts";
import type { Logger } from "../../log/logger.ts";

/**
 * `ssh -A`: a unix socket in the shed (SSH_AUTH_SOCK) whose every connection becomes an
 * auth-agent@openssh.com channel back to the user's own ssh-agent, so keys never enter the
 * shed. Lives as long as the session that asked for it.
 */
export interface ForwardedAgent {
  socketPath: string;
  close(): void;
}

export async function forwardSshAgent(client: Connection, agent: AgentConnection, user: string, logger: Logger): Promise<ForwardedAgent> {
  const socketPath = `/tmp/shed-ssh-${randomBytes(6).toString("hex")}/agent.sock`;
  const listener = await agent.listenUnix(socketPath, { user });
  let open = true;
  void (async () => {
    while (open) {
      const conn = await agent.acceptUnix(socketPath).catch(() => undefined);
      if (!conn) break;
      openAuthAgentChannel(client).then(
        (channel) => relayDuplex(channel, conn),
        (err) => {
          logger.debug("ssh: the client refused an agent channel", { reason: (err as Error).message });
          void conn.writable.abort().catch(() => {});
        },
      );
    }
  })();
  return {
    socketPath,
    close: () => {
      open = false;
      listener.close();
    },
  };
}

/**
 * ssh2's server has no call for opening an auth-agent channel to the client; this asks the
 * way its own openChannel does for forwarded-tcpip (ssh2 1.x internals, pinned by the lock).
 */
function openAuthAgentChannel(client: Connection): Promise<Duplex> {
  const internals = client as unknown as {
    _chanMgr: { add(cb: unknown): number };
    _protocol: { openssh_authAgent(chan: number, window: number, packetSize: number): void };
  };
  return new Promise((resolve, reject) => {
    const onOpen = (err: Error | undefined, channel: Duplex) => (err ? reject(err) : resolve(channel));
    (onOpen as unknown as { type: string }).type = "auth-agent@openssh.com";
    const id = internals._chanMgr.add(onOpen);
    if (id === -1) return reject(new Error("no free channels"));
    internals._protocol.openssh_authAgent(id, 2 * 1024 * 1024, 32 * 1024);
  });
}
