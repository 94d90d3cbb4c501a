import type { AgentConnection, AgentInfo } from "./api.ts";

/**
 * What a protocol server serves: the guest agent implements it by running things locally,
 * the server's exec relay by forwarding to a shed's AgentConnection. Same shape as the host
 * contract, minus the connection itself.
 */
export interface AgentOps
  extends Pick<
    AgentConnection,
    "health" | "exec" | "putArchive" | "getArchive" | "connectTcp" | "listenUnix" | "acceptUnix" | "shutdown" | "splice"
  > {
  /** What HELLO answers (the protocol version is filled in by the service). */
  info(): Omit<AgentInfo, "protocol">;
  /** Whether new streams are refused (the agent is shutting down). */
  readonly draining?: boolean;
}
