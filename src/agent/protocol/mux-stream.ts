import * as v from "valibot";
import type { ShedError } from "../../api/errors.ts";
import { errorFromPayload, protocolError } from "./errors.ts";
import { InboundChannel, OutboundChannel } from "./flow.ts";
import { CHANNEL_MASK, type Frame, FrameType, MAX_PAYLOAD, creditPayload, frameTypeName, parseJsonPayload, readCredit } from "./frame.ts";
import { ErrorPayloadSchema } from "./messages.ts";
import type { Mux } from "./mux.ts";

/** One stream: up to two channels each way, CONTROL messages, and its end (CLOSE or ERROR). */
export class MuxStream {
  private readonly inbound: (InboundChannel | undefined)[] = [];
  private readonly outbound: (OutboundChannel | undefined)[] = [];
  private sentClose = false;
  private gotClose = false;
  private done = false;
  /** Set when the stream ended badly (peer reset, connection lost). */
  failure: Error | undefined;
  onControl: (msg: Record<string, unknown>) => void = () => {};
  onError: (err: ShedError | Error) => void = () => {};
  onClose: () => void = () => {};

  constructor(
    private readonly mux: Mux,
    readonly id: number,
  ) {}

  get isDone(): boolean {
    return this.done;
  }

  /** The reading side of a channel (created on first use, so early data is kept). */
  readable(channel: number): ReadableStream<Uint8Array> {
    return this.in(channel).readable;
  }

  private in(channel: number): InboundChannel {
    let ch = this.inbound[channel];
    if (!ch) {
      ch = new InboundChannel(this.mux.window, (n) => {
        if (!this.done) this.mux.send(FrameType.WINDOW, channel, this.id, creditPayload(n));
      });
      if (this.failure) ch.fail(this.failure);
      this.inbound[channel] = ch;
    }
    return ch;
  }

  private out(channel: number): OutboundChannel {
    let ch = this.outbound[channel];
    if (!ch) {
      ch = new OutboundChannel(this.mux.peerWindow);
      if (this.failure) ch.fail(this.failure);
      this.outbound[channel] = ch;
    }
    return ch;
  }

  /** Sends bytes on a channel, waiting for credit and for the transport to drain. */
  async write(channel: number, bytes: Uint8Array): Promise<void> {
    const ch = this.out(channel);
    if (ch.ended) throw new Error(`channel ${channel} of stream ${this.id} already ended`);
    let at = 0;
    while (at < bytes.length) {
      const n = await ch.take(Math.min(bytes.length - at, MAX_PAYLOAD));
      if (this.done) throw this.failure ?? new Error(`stream ${this.id} is closed`);
      if (!this.mux.send(FrameType.DATA, channel, this.id, bytes.subarray(at, at + n))) await this.mux.drained();
      at += n;
    }
  }

  /** A WritableStream over a channel; close() sends EOF, abort() resets the stream. */
  writable(channel: number): WritableStream<Uint8Array> {
    return new WritableStream<Uint8Array>(
      {
        write: (chunk) => this.write(channel, chunk),
        close: () => this.end(channel),
        abort: (reason) => this.reset(reason instanceof Error ? reason : new Error(String(reason))),
      },
      { highWaterMark: 1 },
    );
  }

  end(channel: number): void {
    const ch = this.out(channel);
    if (ch.ended || this.done) return;
    ch.ended = true;
    this.mux.send(FrameType.EOF, channel, this.id);
  }

  control(msg: Record<string, unknown>): void {
    if (!this.done && !this.sentClose) this.mux.sendJson(FrameType.CONTROL, this.id, msg);
  }

  /** This side is done with the stream; it is released once the peer is done too. */
  close(): void {
    if (this.sentClose || this.done) return;
    this.sentClose = true;
    this.mux.send(FrameType.CLOSE, 0, this.id);
    if (this.gotClose) this.finish();
  }

  /** Ends the stream at once, telling the peer why (an ERROR frame). */
  reset(err: Error): void {
    if (this.done) return;
    this.mux.sendError(this.id, err);
    this.abort(err);
  }

  /** Ends the stream locally without telling the peer (it already knows, or is gone). */
  abort(err: Error): void {
    if (this.done) return;
    this.failure = err;
    for (const ch of this.inbound) ch?.fail(err);
    for (const ch of this.outbound) ch?.fail(err);
    // The reason first: onClose listeners then see a stream that already failed.
    this.onError(err);
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    for (const ch of this.outbound) ch?.fail(this.failure ?? new Error(`stream ${this.id} is closed`));
    // Nothing more can arrive: readers of unfinished channels see the end, not a hang.
    for (const ch of this.inbound) ch?.end();
    this.mux.release(this);
    this.onClose();
  }

  receive(frame: Frame): void {
    const channel = frame.flags & CHANNEL_MASK;
    switch (frame.type) {
      case FrameType.DATA: {
        const ch = this.in(channel);
        if (ch.isEnded && !this.failure) throw protocolError(`DATA after EOF on stream ${this.id}`);
        if (!ch.push(frame.payload)) throw protocolError(`stream ${this.id} sent past its window`);
        return;
      }
      case FrameType.EOF:
        this.in(channel).end();
        return;
      case FrameType.WINDOW:
        if (!this.out(channel).grant(readCredit(frame.payload))) throw protocolError("window overflow");
        return;
      case FrameType.CONTROL:
        this.onControl(parseJsonPayload(frame.payload));
        return;
      case FrameType.CLOSE:
        this.gotClose = true;
        for (const ch of this.inbound) ch?.end();
        this.onPeerClose();
        if (this.sentClose) this.finish();
        return;
      case FrameType.ERROR: {
        const parsed = v.safeParse(ErrorPayloadSchema, parseJsonPayload(frame.payload));
        const err = parsed.success
          ? errorFromPayload(parsed.output)
          : protocolError("malformed ERROR frame");
        this.abort(err);
        return;
      }
      default:
        throw protocolError(`${frameTypeName(frame.type)} is not valid on a stream`);
    }
  }

  /** The peer closed its side (set by the layer above: e.g. the agent aborts an exec). */
  onPeerClose: () => void = () => {};
}
