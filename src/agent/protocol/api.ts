import type { ExecRequest } from "./messages.ts";
import type { SpliceSide } from "./splice.ts";

/**
 * What the host sees of an agent: the contract between shed-server (backends, exec route,
 * SSH door, provisioning) and the protocol implementation in this folder. Transports
 * (unix socket, stdio, virtio-serial, vsock) all yield an AgentConnection.
 */
export type { ExecRequest };

export interface AgentInfo {
  /** shed-agent's version string (same as the host binaries that built it). */
  version: string;
  /** Protocol version both sides agreed on in `hello`. */
  protocol: number;
  hostname: string;
  uptimeMs: number;
  pid: number;
}

export interface AgentHealth {
  ok: boolean;
  uptimeMs: number;
  /** Streams currently open on this connection or others (execs, files, tcp). */
  activeStreams: number;
}


export interface ExitStatus {
  /** Exit code as a shell reports it: the process's own, or 128+N when killed by signal N. */
  code: number;
  /** Name of the signal that killed it ("SIGKILL"), when it died of one. */
  signal?: string;
}

export interface ExecProcess {
  readonly stdin: WritableStream<Uint8Array>;
  readonly stdout: ReadableStream<Uint8Array>;
  /** Empty and already closed when a PTY was requested. */
  readonly stderr: ReadableStream<Uint8Array>;
  resize(rows: number, cols: number): void;
  /** Deliver a signal by name ("SIGINT", "SIGTERM", ...) to the process group. */
  signal(name: string): void;
  readonly exit: Promise<ExitStatus>;
}

export interface ByteDuplex {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

export interface AgentConnection {
  /** Result of the hello handshake. */
  readonly info: AgentInfo;
  health(): Promise<AgentHealth>;
  exec(req: ExecRequest): Promise<ExecProcess>;
  /** Unpacks a tar stream into `dir` in the guest (created if missing), owned by `user`. */
  putArchive(dir: string, tar: ReadableStream<Uint8Array>, opts?: { user?: string }): Promise<void>;
  /** A tar stream of `path` (file or directory) in the guest. */
  getArchive(path: string): Promise<ReadableStream<Uint8Array>>;
  /** A byte stream to `host:port` as seen from inside the guest (default host 127.0.0.1). */
  connectTcp(port: number, host?: string): Promise<ByteDuplex>;
  /**
   * Listens on a unix socket at `path` in the guest (directory 0700, socket 0600, owned by
   * `user`) until close(); connections are taken with acceptUnix. SSH agent forwarding uses it.
   */
  listenUnix(path: string, opts?: { user?: string }): Promise<{ close(): void }>;
  /** The next connection to a socket listenUnix made. */
  acceptUnix(path: string): Promise<ByteDuplex>;
  /** Asks the agent to stop accepting work, let running streams drain for `drainMs`, then exit. */
  shutdown(drainMs: number): Promise<void>;
  /**
   * A relay's fast path (splice.ts): a stream a peer opened on `host` is joined to a new stream
   * of this connection opened with `request` (an OPEN payload), its frames passed on as they
   * are. `onDone` runs once when it ends. Throws AGENT_UNAVAILABLE when the connection is
   * closed. Absent where the connection is not a protocol client of its own.
   */
  splice?(request: Record<string, unknown>, host: SpliceSide, onDone: () => void): void;
  close(): void;
  /** Resolves when the connection is gone, with the reason if it was not close(). */
  readonly closed: Promise<Error | undefined>;
}
