import type { AgentConnection } from "../agent/protocol/api.ts";

/**
 * One agent connection per VM, shared by every caller (the protocol multiplexes streams on
 * it). A virtio-serial port is one byte stream: QEMU's chardev socket takes one client at a
 * time and keeps later ones waiting; a vsock dial costs a handshake each time. So the
 * backend holds one connection and hands out handles: a handle's close() releases the handle
 * only; the connection stays for the next caller and is redialed when it drops.
 */
export class SharedAgentLink {
  private conn: Promise<AgentConnection> | undefined;

  constructor(
    private readonly dial: () => Promise<AgentConnection>,
    private readonly dialTimeoutMs = 5000,
  ) {}

  async acquire(): Promise<AgentConnection> {
    const conn = await this.connection();
    return handle(conn);
  }

  /** Takes a connection already dialed (the one that answered the boot wait) as the shared one. */
  adopt(conn: AgentConnection): void {
    this.close();
    const adopted = Promise.resolve(conn);
    this.conn = adopted;
    void conn.closed.then(() => {
      if (this.conn === adopted) this.conn = undefined;
    });
  }

  /** Drops the connection (VM stopping or gone). */
  close(): void {
    const conn = this.conn;
    this.conn = undefined;
    conn?.then((c) => c.close()).catch(() => {});
  }

  private connection(): Promise<AgentConnection> {
    if (this.conn) return this.conn;
    const attempt = withTimeout(this.dial(), this.dialTimeoutMs);
    this.conn = attempt;
    attempt.then(
      (c) => {
        void c.closed.then(() => {
          if (this.conn === attempt) this.conn = undefined;
        });
      },
      () => {
        if (this.conn === attempt) this.conn = undefined;
      },
    );
    return attempt;
  }
}

/** A dial that never answers (guest agent not up yet) must not hold the single port forever. */
function withTimeout(dial: Promise<AgentConnection>, ms: number): Promise<AgentConnection> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      // The late connection, if it ever comes, is closed so the port is free again.
      dial.then((c) => c.close()).catch(() => {});
      reject(new Error(`the agent did not answer on its serial port within ${ms}ms`));
    }, ms);
    dial.then(
      (c) => {
        clearTimeout(timer);
        if (done) c.close();
        else resolve(c);
      },
      (err) => {
        clearTimeout(timer);
        if (!done) reject(err);
      },
    );
  });
}

function handle(conn: AgentConnection): AgentConnection {
  let release!: () => void;
  const released = new Promise<undefined>((r) => {
    release = () => r(undefined);
  });
  let open = true;
  const live = (): AgentConnection => {
    if (!open) throw new Error("agent handle is closed");
    return conn;
  };
  return {
    get info() {
      return conn.info;
    },
    health: () => live().health(),
    exec: (req) => live().exec(req),
    putArchive: (dir, tar, opts) => live().putArchive(dir, tar, opts),
    getArchive: (path) => live().getArchive(path),
    connectTcp: (port, host) => live().connectTcp(port, host),
    listenUnix: (path, opts) => live().listenUnix(path, opts),
    acceptUnix: (path) => live().acceptUnix(path),
    shutdown: (drainMs) => live().shutdown(drainMs),
    ...(conn.splice ? { splice: (request, host, onDone) => live().splice!(request, host, onDone) } : {}),
    close: () => {
      open = false;
      release();
    },
    closed: Promise.race([conn.closed, released]),
  };
}
