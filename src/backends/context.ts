import type { AgentConnection } from "../agent/protocol/api.ts";
import type { Logger } from "../log/logger.ts";
import type { ImageSource } from "./image-source.ts";

/** The agent as sheds get it: bin/shed-agent with lib/ holding its loader and libraries. */
export interface AgentBundle {
  dir: string;
  /** Loader file name inside lib/ (e.g. ld-linux-x86-64.so.2). */
  loader: string;
}

/**
 * What the server hands every backend, the same for all: a backend needs nothing else of
 * the server (its own settings come as its config section). Built by the server
 * (src/server/backends.ts); a test builds one of its own.
 */
export interface BackendContext {
  /** The server's state dir: a backend keeps its files under `<stateDir>/<its name>/`. */
  stateDir: string;
  /** Marks what this server made (labels, instance files), so it never touches another's. */
  serverId: string;
  logger: Logger;
  /** Images for this backend (its aliases and pull_policy). */
  images: ImageSource;
  /** The shed-agent bundle to put in sheds (from `agent_path`, beside the server, or embedded); made once. */
  agentBundle(): Promise<AgentBundle>;
  /**
   * A connection to an agent behind a unix socket (hello done). `serial`: the socket is a
   * virtio-serial port's, a byte stream the guest may still hold stale bytes on.
   */
  dialAgent(path: string, opts?: { serial?: boolean }): Promise<AgentConnection>;
}
