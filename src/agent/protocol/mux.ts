import type { Logger } from "../../log/logger.ts";
import { silentLogger } from "../../log/logger.ts";
import { connectionLost, errorToPayload, protocolError } from "./errors.ts";
import {
  type Frame,
  FrameDecoder,
  FrameError,
  FrameType,
  HEADER_SIZE,
  MAX_PAYLOAD,
  encodeHeader,
  frameTypeName,
  isKnownType,
  jsonPayload,
  parseJsonPayload,
} from "./frame.ts";
import { DEFAULT_WINDOW } from "./messages.ts";
import { MuxStream } from "./mux-stream.ts";
import type { Transport } from "./transport.ts";

export { MuxStream };

/** What a stream id is bound to in a Mux: a MuxStream, or one end of a splice (splice.ts). */
export interface StreamEnd {
  readonly id: number;
  /** A frame for this stream (never OPEN). Throwing resets the stream with an ERROR. */
  receive(frame: Frame): void;
  /** The stream ends without a word to the peer (the connection is gone, or a bad frame). */
  abort(err: Error): void;
}

export interface MuxOptions {
  /** "client" opens streams (the host); "server" accepts them (the agent, or the exec relay). */
  role: "client" | "server";
  logger?: Logger;
  /** Credit granted per inbound channel of each stream. */
  window?: number;
  /** Frames on stream 0 other than PING/PONG (HELLO, ERROR). */
  onConnectionFrame: (frame: Frame) => void;
  /** Server role: a peer opened a stream. Throwing answers the OPEN with an ERROR frame. */
  onOpen?: (stream: MuxStream, request: Record<string, unknown>) => void;
  /**
   * Serial links carry one session after another on the same byte stream: after garbage,
   * skip to the next HELLO instead of closing (the transport cannot be redialed).
   */
  resyncOnGarbage?: boolean;
  /** Called when resync drops the session (serial): streams are gone, the link stays. */
  onSessionReset?: (reason: Error) => void;
}

/**
 * Frames <-> streams over one transport: the protocol's multiplexer, used by both ends.
 * Control frames are answered here (unknown types and streams get ERROR frames); what a
 * stream means is up to the layer above (client.ts, service.ts).
 */
export class Mux {
  readonly streams = new Map<number, StreamEnd>();
  readonly window: number;
  /** Credit the peer grants per channel; set from its HELLO. */
  peerWindow = DEFAULT_WINDOW;
  readonly closed: Promise<Error | undefined>;
  private resolveClosed!: (reason: Error | undefined) => void;
  private readonly decoder: FrameDecoder;
  private lastStreamId = 0;
  private greeted = false;
  private isClosed = false;
  private pingWaiters = new Map<string, () => void>();
  readonly logger: Logger;

  constructor(
    readonly transport: Transport,
    private readonly opts: MuxOptions,
  ) {
    this.window = opts.window ?? DEFAULT_WINDOW;
    this.logger = opts.logger ?? silentLogger;
    // DATA split at read boundaries, never joined: bulk bytes are not copied (serial links resync, so whole frames there).
    this.decoder = new FrameDecoder(MAX_PAYLOAD, { splitData: !opts.resyncOnGarbage });
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    transport.start({
      data: (chunk) => this.receive(chunk),
      end: (err) => this.shutdown(err ?? undefined, false),
    });
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  send(type: number, flags: number, stream: number, payload?: Uint8Array): boolean {
    if (this.isClosed) return true;
    const length = payload?.length ?? 0;
    if (length <= 4096 && payload) {
      // Small frames go out as one buffer; big payloads are not copied.
      const frame = new Uint8Array(HEADER_SIZE + length);
      frame.set(encodeHeader(type, flags, stream, length), 0);
      frame.set(payload, HEADER_SIZE);
      return this.transport.write(frame);
    }
    const ok = this.transport.write(encodeHeader(type, flags, stream, length));
    return payload ? this.transport.write(payload) : ok;
  }

  sendJson(type: number, stream: number, value: unknown): void {
    this.send(type, 0, stream, jsonPayload(value));
  }

  sendError(stream: number, err: unknown): void {
    this.sendJson(FrameType.ERROR, stream, errorToPayload(err));
  }

  drained(): Promise<void> {
    return this.transport.drained();
  }

  /** Client role: a new stream with a request; its answer arrives as CONTROL or ERROR. */
  open(request: Record<string, unknown>): MuxStream {
    if (this.isClosed) throw connectionLost(`connection to ${this.transport.description} is closed`);
    const id = ++this.lastStreamId;
    const stream = new MuxStream(this, id);
    this.streams.set(id, stream);
    this.sendJson(FrameType.OPEN, id, request);
    return stream;
  }

  /**
   * Client role: opens a stream whose frames go to the end `bind` makes for its id instead of
   * a MuxStream (a relay forwarding them as they are).
   */
  openBound(request: Record<string, unknown>, bind: (id: number) => StreamEnd): StreamEnd {
    if (this.isClosed) throw connectionLost(`connection to ${this.transport.description} is closed`);
    const id = ++this.lastStreamId;
    const end = bind(id);
    this.streams.set(id, end);
    this.sendJson(FrameType.OPEN, id, request);
    return end;
  }

  /** Server role: the stream a peer opened is served by `end` from now on (its MuxStream is dropped). */
  rebind(end: StreamEnd): void {
    if (this.isClosed) return;
    this.streams.set(end.id, end);
  }

  /** Round trip on stream 0: resolves when the peer answered. */
  ping(): Promise<void> {
    const token = crypto.randomUUID().slice(0, 8);
    return new Promise((resolve) => {
      this.pingWaiters.set(token, resolve);
      this.send(FrameType.PING, 0, 0, new TextEncoder().encode(token));
    });
  }

  close(reason?: Error): void {
    this.shutdown(reason, true);
  }

  private shutdown(reason: Error | undefined, local: boolean): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const err = connectionLost(`connection to ${this.transport.description} closed`, reason);
    for (const stream of [...this.streams.values()]) stream.abort(err);
    this.streams.clear();
    for (const w of this.pingWaiters.values()) w();
    this.pingWaiters.clear();
    if (local) this.transport.close();
    else this.transport.close();
    this.resolveClosed(local ? reason : (reason ?? new Error("the peer closed the connection")));
  }

  /** Resets every stream (serial: a new session began, or the old one broke). */
  resetSession(reason: Error): void {
    for (const stream of [...this.streams.values()]) stream.abort(connectionLost("session reset", reason));
    this.streams.clear();
    this.lastStreamId = 0;
  }

  private receive(chunk: Uint8Array): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.garbage(err as Error);
      return;
    }
    for (const frame of frames) {
      if (this.isClosed) return;
      try {
        this.dispatch(frame);
      } catch (err) {
        // A malformed frame costs its stream, never the connection.
        this.logger.debug("bad frame", { type: frameTypeName(frame.type), stream: frame.stream, error: String(err) });
        const e = err instanceof FrameError ? protocolError(err.message) : err;
        if (frame.stream !== 0) {
          this.streams.get(frame.stream)?.abort(e as Error);
          this.streams.delete(frame.stream);
        }
        this.sendError(frame.stream, e);
      }
    }
  }

  private garbage(err: Error): void {
    this.logger.warn("unreadable input, dropping the session", { transport: this.transport.description, error: err.message });
    if (this.opts.resyncOnGarbage) {
      // No ERROR: on a serial line nobody reads it but the next session, which it would confuse.
      this.resetSession(err);
      this.opts.onSessionReset?.(err);
      this.decoder.resync();
      // The rest of the buffered input may hold the next HELLO.
      this.receive(new Uint8Array(0));
      return;
    }
    this.sendError(0, protocolError(err.message));
    this.shutdown(protocolError(err.message), true);
  }

  private dispatch(frame: Frame): void {
    const { type, stream: id } = frame;
    if (this.opts.role === "client" && this.opts.resyncOnGarbage && !this.greeted) {
      // A serial line may still hold the last session's frames: wait for our HELLO's answer.
      if (id !== 0 || type !== FrameType.HELLO) return;
      this.greeted = true;
    }
    if (!isKnownType(type)) throw protocolError(`unknown frame type ${frameTypeName(type)}`);
    if (id === 0) {
      this.connectionFrame(frame);
      return;
    }
    if (type === FrameType.OPEN) {
      this.openFrame(frame);
      return;
    }
    const stream = this.streams.get(id);
    if (!stream) {
      // Frames racing a stream's end are normal; frames for streams never opened are not.
      if (id <= this.lastStreamId || type === FrameType.ERROR || type === FrameType.CLOSE) return;
      throw protocolError(`${frameTypeName(type)} for unknown stream ${id}`);
    }
    stream.receive(frame);
  }

  private connectionFrame(frame: Frame): void {
    switch (frame.type) {
      case FrameType.PING:
        if (frame.payload.length > 64) throw protocolError("PING payload over 64 bytes");
        this.send(FrameType.PONG, 0, 0, frame.payload.slice());
        return;
      case FrameType.PONG: {
        const token = new TextDecoder().decode(frame.payload);
        this.pingWaiters.get(token)?.();
        this.pingWaiters.delete(token);
        return;
      }
      case FrameType.HELLO:
      case FrameType.ERROR:
        this.opts.onConnectionFrame(frame);
        return;
      default:
        throw protocolError(`${frameTypeName(frame.type)} is not valid on stream 0`);
    }
  }

  private openFrame(frame: Frame): void {
    const id = frame.stream;
    if (this.opts.role !== "server" || !this.opts.onOpen) throw protocolError("only the host opens streams");
    if (id <= this.lastStreamId) throw protocolError(`stream id ${id} reused (ids must increase)`);
    this.lastStreamId = id;
    const request = parseJsonPayload(frame.payload);
    const stream = new MuxStream(this, id);
    this.streams.set(id, stream);
    this.opts.onOpen(stream, request);
  }

  /** A stream finished on both sides: forget it. */
  release(stream: StreamEnd): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
  }
}
