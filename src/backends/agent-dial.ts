import type { AgentConnection } from "../agent/protocol/api.ts";
import { connectAgent } from "../agent/protocol/client.ts";
import { dialUnix } from "../agent/protocol/transports/socket.ts";
import { ShedError } from "../api/errors.ts";
import type { Logger } from "../log/logger.ts";
import { VERSION } from "../version.ts";

/** BackendContext.dialAgent: a unix socket, then the protocol's hello (`serial`: a virtio-serial port's stream). */
export function agentDialer(logger: Logger): (path: string, opts?: { serial?: boolean }) => Promise<AgentConnection> {
  return async (path, opts = {}) => {
    let transport: Awaited<ReturnType<typeof dialUnix>>;
    try {
      transport = await dialUnix(path);
    } catch (err) {
      throw new ShedError("AGENT_UNAVAILABLE", `no agent listens on ${path}: ${(err as Error).message}`, { cause: err });
    }
    return connectAgent(transport, { client: `shed-server ${VERSION}`, logger, serial: opts.serial });
  };
}
