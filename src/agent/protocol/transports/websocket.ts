import type { ServerWebSocket } from "bun";
import { ShedError } from "../../../api/errors.ts";
import { HIGH_WATER_MARK, type Transport, type TransportReceiver, WriteQueue } from "../transport.ts";

/** WebSocket messages are the byte stream (frames may span messages; the decoder copes). */
abstract class MessageTransport implements Transport {
  protected receiver: TransportReceiver | undefined;
  private early: Uint8Array[] = [];
  protected ended: Error | null | undefined;
  protected readonly queue: WriteQueue;
  abstract readonly description: string;

  constructor(sink: (chunk: Uint8Array) => number, batch?: (fn: () => void) => void) {
    this.queue = new WriteQueue((chunk) => (this.ended !== undefined ? -1 : sink(chunk)), HIGH_WATER_MARK, batch);
  }

  start(receiver: TransportReceiver): void {
    // Bytes that came before start() are delivered after it returns: the receiver's owner
    // (a Mux still in its constructor) must exist before its first frame.
    queueMicrotask(() => {
      this.receiver = receiver;
      for (const chunk of this.early) receiver.data(chunk);
      this.early = [];
      if (this.ended !== undefined) receiver.end(this.ended ?? undefined);
    });
  }

  write(chunk: Uint8Array): boolean {
    return this.queue.push(chunk);
  }

  drained(): Promise<void> {
    return this.queue.drained();
  }

  abstract close(): void;

  received(data: ArrayBuffer | Uint8Array | string): void {
    if (typeof data === "string") {
      this.gone(new Error("text message on a binary channel"));
      return;
    }
    const chunk = data instanceof Uint8Array ? data : new Uint8Array(data);
    if (this.receiver) this.receiver.data(chunk);
    else this.early.push(chunk);
  }

  gone(err?: Error): void {
    if (this.ended !== undefined) return;
    this.ended = err ?? null;
    this.queue.kill();
    this.receiver?.end(err);
  }
}

/** Server side (Bun.serve): fed by the websocket handlers; Bun reports backpressure and drain. */
export class ServerWebSocketTransport extends MessageTransport {
  readonly description: string;

  constructor(private readonly ws: ServerWebSocket<unknown>, description: string) {
    // send() is -1 when Bun queued the message past its backpressure limit: take it, then wait.
    super((chunk) => {
      const n = ws.send(chunk);
      if (n === 0) return -1;
      if (n === -1) this.backpressured = true;
      return chunk.length;
    }, corked(ws));
    this.description = description;
  }

  private backpressured = false;

  override write(chunk: Uint8Array): boolean {
    return super.write(chunk) && !this.backpressured;
  }

  override drained(): Promise<void> {
    if (!this.backpressured) return super.drained();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private waiters: (() => void)[] = [];

  drain(): void {
    this.backpressured = false;
    for (const w of this.waiters.splice(0)) w();
    this.queue.resume();
  }

  close(): void {
    this.queue.flush();
    this.ws.close();
    this.gone();
  }
}

/** A flush's messages corked: a frame's header and payload leave in one write, not two. */
function corked(ws: ServerWebSocket<unknown>): (fn: () => void) => void {
  return (fn) => {
    // A closing socket is not corked: its sends just fail (send() is 0), as they would anyway.
    if (ws.readyState === 1) ws.cork(fn);
    else fn();
  };
}

/**
 * Client side (the CLI, the client library): Bun's WebSocket and Node's (undici, Node 22+) take
 * headers (the API token) and Bun's takes TLS options (the pinned certificate).
 */
export function dialWebSocket(url: string, headers: Record<string, string>, tls?: object): Promise<Transport> {
  const ws = new WebSocket(url, { headers, ...(tls ? { tls } : {}) } as never);
  ws.binaryType = "arraybuffer";
  const transport = new ClientWebSocketTransport(ws, url);
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(transport);
    ws.onerror = (e) =>
      reject(
        new ShedError("SERVER_UNREACHABLE", `could not open a WebSocket to ${url.replace(/\?.*/, "")}`, {
          cause: new Error((e as ErrorEvent).message || "refused"),
        }),
      );
    ws.onmessage = (e) => transport.received(e.data as ArrayBuffer);
    ws.onclose = (e) => transport.gone(e.code === 1000 || e.code === 1005 ? undefined : new Error(`websocket closed (${e.code} ${e.reason})`));
  });
}

class ClientWebSocketTransport extends MessageTransport {
  constructor(
    private readonly ws: WebSocket,
    readonly description: string,
  ) {
    super((chunk) => {
      ws.send(chunk);
      return chunk.length;
    });
  }

  override drained(): Promise<void> {
    const poll = async () => {
      while (this.ws.bufferedAmount > HIGH_WATER_MARK && this.ended === undefined) await new Promise((r) => setTimeout(r, 2));
    };
    return this.queue.drained().then(poll);
  }

  override write(chunk: Uint8Array): boolean {
    return super.write(chunk) && this.ws.bufferedAmount < HIGH_WATER_MARK;
  }

  close(): void {
    this.queue.flush();
    this.ws.close();
  }
}
