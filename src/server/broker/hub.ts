import * as v from "valibot";
import { ShedError, toShedError } from "../../api/errors.ts";
import { NO_BROKER_MESSAGE } from "../../agent/broker/guest-protocol.ts";
import { type BrokerReply, BrokerReplySchema, type BrokerRequest } from "../../broker/messages.ts";
import type { Logger } from "../../log/logger.ts";

/** How long one brokered request may wait for the broker (a `--confirm` waits on a person). */
const REQUEST_TIMEOUT_MS = 120_000;

/** The broker's end of GET /api/broker, as the hub sees it. */
export interface BrokerLink {
  send(doc: unknown): void;
  /** Ends the connection; with `bye`, the broker is told why first and does not connect again. */
  close(bye?: string): void;
  /** For logs and shed-ext status: where it connected from. */
  peer: string;
}

type Ask = BrokerRequest extends infer R ? (R extends BrokerRequest ? Omit<R, "id" | "shed"> : never) : never;

interface Session {
  link: BrokerLink;
  since: string;
  pending: Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void; timer: Timer }>;
}

/**
 * The one broker of this server. Sheds have no owner yet: every shed belongs to the server's
 * single principal, so the broker that principal connected answers them all. A newer
 * connection replaces an older one (a laptop back from sleep is not locked out by its own
 * half-dead socket). Requests reach only the broker connected to this server.
 */
export class BrokerHub {
  private session: Session | undefined;
  private nextId = 1;
  private readonly connectListeners: (() => void)[] = [];

  constructor(private readonly logger: Logger) {}

  /** Runs whenever a broker connects (the server attaches running sheds then). */
  onConnect(fn: () => void): void {
    this.connectListeners.push(fn);
  }

  /** A broker connected; returns what its socket's events call. */
  connect(link: BrokerLink): { received(line: string): void; gone(): void } {
    if (this.session) {
      this.logger.info("broker replaced by a newer connection", { old: this.session.link.peer, new: link.peer });
      this.end(this.session, "another broker connected to this server", true);
    }
    const session: Session = { link, since: new Date().toISOString(), pending: new Map() };
    this.session = session;
    this.logger.info("broker connected", { peer: link.peer });
    for (const fn of this.connectListeners) fn();
    return {
      received: (line) => this.received(session, line),
      gone: () => {
        if (this.session !== session) return;
        this.logger.info("broker disconnected", { peer: link.peer });
        this.end(session, NO_BROKER_MESSAGE);
      },
    };
  }

  status(): { connected: false } | { connected: true; since: string; peer: string } {
    return this.session ? { connected: true, since: this.session.since, peer: this.session.link.peer } : { connected: false };
  }

  /**
   * One request to the broker, logged for audit with `audit` (a key fingerprint, a registry
   * host), never with the secret. BROKER_UNAVAILABLE when none is connected.
   */
  async request(shed: string, ask: Ask, audit: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const session = this.session;
    const fields = { shed, kind: ask.kind, ...audit };
    if (!session) {
      this.logger.info("brokered request refused: no broker", fields);
      throw new ShedError("BROKER_UNAVAILABLE", NO_BROKER_MESSAGE);
    }
    const id = this.nextId++;
    try {
      const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => {
          session.pending.delete(id);
          reject(new ShedError("TIMEOUT", `the broker did not answer in ${REQUEST_TIMEOUT_MS / 1000} s`));
        }, REQUEST_TIMEOUT_MS);
        session.pending.set(id, { resolve, reject, timer });
        session.link.send({ id, shed, ...ask });
      });
      if (ask.kind !== "status") this.logger.info("brokered", { ...fields, outcome: "ok" });
      return result;
    } catch (err) {
      const e = toShedError(err, "BROKER_REFUSED");
      this.logger.info("brokered", { ...fields, outcome: e.code, reason: e.message });
      throw e;
    }
  }

  private received(session: Session, line: string): void {
    let reply: BrokerReply;
    try {
      reply = v.parse(BrokerReplySchema, JSON.parse(line));
    } catch {
      this.logger.warn("broker sent a line that is not a reply; disconnecting it", { peer: session.link.peer });
      this.end(session, "the broker broke the protocol");
      return;
    }
    const waiter = session.pending.get(reply.id);
    if (!waiter) return;
    session.pending.delete(reply.id);
    clearTimeout(waiter.timer);
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(new ShedError(reply.code === "NOT_FOUND" ? "NOT_FOUND" : "BROKER_REFUSED", reply.message));
  }

  private end(session: Session, why: string, bye = false): void {
    if (this.session === session) this.session = undefined;
    for (const w of session.pending.values()) {
      clearTimeout(w.timer);
      w.reject(new ShedError("BROKER_UNAVAILABLE", why));
    }
    session.pending.clear();
    session.link.close(bye ? why : undefined);
  }
}
