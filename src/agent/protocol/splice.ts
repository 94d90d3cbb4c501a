/**
 * A relay's fast path: stream `a` of one connection joined to stream `b` of another, frame by
 * frame. DATA payloads go across as the views the decoder made (never copied, never through a
 * ReadableStream), only the stream id is rewritten. Credit is kept per hop: each side is granted
 * its window as bytes are passed on, and bytes wait here only while the far side has given no
 * credit, so what is held is bounded by the windows.
 *
 * Order: data towards the host keeps its order with CONTROL and CLOSE (an exit status must not
 * overtake the last output); towards the agent CONTROL (a signal, a resize) passes stdin that
 * waits for credit, as it would in the agent's own relay: a Ctrl-C reaches a command that does
 * not read its input.
 */
import { errorToPayload, protocolError } from "./errors.ts";
import { CHANNEL_MASK, type Frame, FrameType, creditPayload, frameTypeName, jsonPayload, readCredit } from "./frame.ts";
import type { Mux, StreamEnd } from "./mux.ts";

/** One stream of one connection. */
export interface SpliceSide {
  mux: Mux;
  id: number;
}

const CHANNELS = CHANNEL_MASK + 1;

/** Frames from `from` to `to`: credit towards `to`, grants back to `from`, what waits. */
class Direction {
  /** What `from` may still send per channel (our grant). */
  private readonly allowed: number[];
  /** Passed on but not yet granted back. */
  private readonly unacked = new Array<number>(CHANNELS).fill(0);
  /** What we may still send `to` per channel (its grant). */
  private readonly credit: number[];
  private readonly queues: Uint8Array[][] = Array.from({ length: CHANNELS }, () => []);
  private readonly eofSeen = new Array<boolean>(CHANNELS).fill(false);
  private readonly eofWaiting = new Array<boolean>(CHANNELS).fill(false);
  /** Frames behind waiting data (ordered directions only), in arrival order. */
  private readonly held: Frame[] = [];
  closed = false;

  constructor(
    private readonly from: SpliceSide,
    private readonly to: SpliceSide,
    private readonly ordered: boolean,
  ) {
    this.allowed = new Array<number>(CHANNELS).fill(from.mux.window);
    this.credit = new Array<number>(CHANNELS).fill(to.mux.peerWindow);
  }

  /** A DATA, EOF, CONTROL or CLOSE frame from `from`. */
  arrive(frame: Frame): void {
    const ch = frame.flags & CHANNEL_MASK;
    if (frame.type === FrameType.DATA) {
      if (this.eofSeen[ch]) throw protocolError(`DATA after EOF on stream ${this.from.id}`);
      if (frame.payload.length > this.allowed[ch]!) throw protocolError(`stream ${this.from.id} sent past its window`);
      this.allowed[ch]! -= frame.payload.length;
    } else if (frame.type === FrameType.EOF) {
      this.eofSeen[ch] = true;
    }
    if (this.held.length > 0) this.held.push(frame);
    else this.process(frame);
  }

  /** `to` granted more on a channel. */
  grant(channel: number, n: number): void {
    if (this.credit[channel]! + n > 0xffffffff) throw protocolError("window overflow");
    this.credit[channel]! += n;
    this.flush(channel);
  }

  private process(frame: Frame): void {
    const ch = frame.flags & CHANNEL_MASK;
    if (frame.type === FrameType.DATA) {
      if (frame.payload.length > 0) this.queues[ch]!.push(frame.payload);
      this.flush(ch);
    } else if (frame.type === FrameType.EOF) {
      this.eofWaiting[ch] = true;
      this.flush(ch);
    } else if (this.ordered && this.waiting()) {
      this.held.push(frame);
    } else {
      this.pass(frame);
    }
  }

  private waiting(): boolean {
    for (let ch = 0; ch < CHANNELS; ch++) if (this.queues[ch]!.length > 0 || this.eofWaiting[ch]) return true;
    return false;
  }

  private flush(ch: number): void {
    const queue = this.queues[ch]!;
    while (queue.length > 0 && this.credit[ch]! > 0) {
      const head = queue[0]!;
      const n = Math.min(head.length, this.credit[ch]!);
      if (n === head.length) queue.shift();
      else queue[0] = head.subarray(n);
      this.credit[ch]! -= n;
      this.to.mux.send(FrameType.DATA, ch, this.to.id, n === head.length ? head : head.subarray(0, n));
      this.passedOn(ch, n);
    }
    if (queue.length === 0 && this.eofWaiting[ch]) {
      this.eofWaiting[ch] = false;
      this.to.mux.send(FrameType.EOF, ch, this.to.id);
    }
    while (this.held.length > 0 && !this.waiting()) this.process(this.held.shift()!);
  }

  private passedOn(ch: number, n: number): void {
    this.unacked[ch]! += n;
    // Granted in batches of a quarter window, as InboundChannel does, so WINDOW frames stay few.
    if (this.unacked[ch]! >= this.from.mux.window / 4) {
      const grant = this.unacked[ch]!;
      this.unacked[ch] = 0;
      this.allowed[ch]! += grant;
      this.from.mux.send(FrameType.WINDOW, ch, this.from.id, creditPayload(grant));
    }
  }

  private pass(frame: Frame): void {
    this.to.mux.send(frame.type, frame.flags, this.to.id, frame.payload.length > 0 ? frame.payload : undefined);
    if (frame.type === FrameType.CLOSE) this.closed = true;
  }

  /** Nothing more is passed on (the splice ended): what waits is dropped. */
  drop(): void {
    for (const q of this.queues) q.length = 0;
    this.held.length = 0;
    this.eofWaiting.fill(false);
  }
}

/**
 * Joins `host` (a stream a peer opened on the relay's connection) with a new stream opened on
 * `agent` with `request`. Throws AGENT_UNAVAILABLE, having sent nothing and bound nothing, when
 * that connection is already closed (the caller answers on `host` as for any failed open).
 * `onDone` runs once, when both sides closed or either failed.
 */
export function splice(host: SpliceSide, agent: Mux, request: Record<string, unknown>, onDone: () => void = () => {}): void {
  agent.openBound(request, (id) => {
    const joint = new Joint(host, { mux: agent, id }, onDone);
    host.mux.rebind(joint.hostEnd);
    return joint.agentEnd;
  });
}

class Joint {
  private readonly up: Direction;
  private readonly down: Direction;
  private done = false;
  readonly hostEnd: StreamEnd;
  readonly agentEnd: StreamEnd;

  constructor(
    private readonly host: SpliceSide,
    private readonly agent: SpliceSide,
    private readonly onDone: () => void,
  ) {
    this.up = new Direction(host, agent, false);
    this.down = new Direction(agent, host, true);
    this.hostEnd = this.end(host, agent, this.up, this.down);
    this.agentEnd = this.end(agent, host, this.down, this.up);
  }

  private end(self: SpliceSide, other: SpliceSide, outgoing: Direction, incoming: Direction): StreamEnd {
    return {
      id: self.id,
      receive: (frame) => {
        if (this.done) return;
        switch (frame.type) {
          case FrameType.DATA:
          case FrameType.EOF:
          case FrameType.CONTROL:
          case FrameType.CLOSE:
            outgoing.arrive(frame);
            break;
          case FrameType.WINDOW:
            // A held CLOSE may go across now.
            incoming.grant(frame.flags & CHANNEL_MASK, readCredit(frame.payload));
            break;
          case FrameType.ERROR:
            // A reset goes across at once: whatever waits for credit is moot.
            other.mux.send(FrameType.ERROR, 0, other.id, frame.payload);
            this.finish();
            return;
          default:
            throw protocolError(`${frameTypeName(frame.type)} is not valid on a stream`);
        }
        if (this.up.closed && this.down.closed) this.finish();
      },
      abort: (err) => {
        if (this.done) return;
        // This side is gone (its connection, or a bad frame it sent): the other hears why,
        // with the code a relayed stream gives (AGENT_UNAVAILABLE for a lost agent).
        other.mux.send(FrameType.ERROR, 0, other.id, jsonPayload(errorToPayload(err)));
        this.finish();
      },
    };
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.up.drop();
    this.down.drop();
    this.host.mux.release(this.hostEnd);
    this.agent.mux.release(this.agentEnd);
    this.onDone();
  }
}
