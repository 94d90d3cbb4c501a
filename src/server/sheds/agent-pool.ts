import type { AgentConnection } from "../../agent/protocol/api.ts";
import type { Logger } from "../../log/logger.ts";

/**
 * One multiplexed agent connection per running shed, shared by every exec and SSH channel.
 * A dead connection is forgotten and the next caller dials again.
 */
export class AgentPool {
  private readonly conns = new Map<string, Promise<AgentConnection>>();
  private readonly connected: ((name: string, conn: AgentConnection) => void)[] = [];

  constructor(
    private readonly dial: (name: string) => Promise<AgentConnection>,
    private readonly logger: Logger,
  ) {}

  /** Runs for every connection that becomes a shed's (dialed or adopted): what lives as long as it is set up there. */
  onConnected(fn: (name: string, conn: AgentConnection) => void): void {
    this.connected.push(fn);
  }

  get(name: string): Promise<AgentConnection> {
    const existing = this.conns.get(name);
    if (existing) return existing;
    return this.track(name, this.dial(name));
  }

  /** A connection made elsewhere (the one that answered a create's readiness) becomes the shed's; one already held is replaced. */
  adopt(name: string, conn: AgentConnection): void {
    this.drop(name);
    void this.track(name, Promise.resolve(conn));
  }

  private track(name: string, dialed: Promise<AgentConnection>): Promise<AgentConnection> {
    const pending = dialed.then(
      (conn) => {
        conn.closed.then((reason) => {
          if (this.conns.get(name) === pending) this.conns.delete(name);
          if (reason) this.logger.debug("agent connection lost", { name, reason: reason.message });
        });
        for (const fn of this.connected) fn(name, conn);
        return conn;
      },
      (err) => {
        this.conns.delete(name);
        throw err;
      },
    );
    this.conns.set(name, pending);
    return pending;
  }

  drop(name: string): void {
    const pending = this.conns.get(name);
    this.conns.delete(name);
    pending?.then((c) => c.close()).catch(() => {});
  }

  closeAll(): void {
    for (const name of [...this.conns.keys()]) this.drop(name);
  }
}
