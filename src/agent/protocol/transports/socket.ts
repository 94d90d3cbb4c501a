import { rmSync } from "node:fs";
import type { Socket, SocketHandler } from "bun";
import { type Transport, type TransportReceiver, WriteQueue } from "../transport.ts";

/**
 * A Transport over a Bun socket (unix, TCP, or an fd such as AF_VSOCK). Bun's socket
 * handlers are per listener, so the socket's `data` slot points back at its transport.
 */
export class SocketTransport implements Transport {
  private receiver: TransportReceiver | undefined;
  private early: Uint8Array[] = [];
  private ended: Error | null | undefined;
  private readonly queue: WriteQueue;

  constructor(
    private readonly socket: Socket<SocketSlot>,
    readonly description: string,
  ) {
    socket.data = { transport: this };
    this.queue = new WriteQueue((chunk) => (this.ended !== undefined ? -1 : socket.write(chunk)));
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

  close(): void {
    this.queue.flush();
    this.socket.end();
  }

  /** @internal socket handler entry points */
  received(chunk: Uint8Array): void {
    // Bun hands a fresh Buffer per read (socket.test.ts pins it), so frames may keep views of
    // it: copying every read cost a memcpy and a page-faulted buffer per ~200 KiB.
    if (this.receiver) this.receiver.data(chunk);
    else this.early.push(chunk);
  }

  drain(): void {
    this.queue.resume();
  }

  gone(err?: Error): void {
    if (this.ended !== undefined) return;
    this.ended = err ?? null;
    this.queue.kill();
    this.receiver?.end(err);
  }
}

export interface SocketSlot {
  transport?: SocketTransport;
}

export const socketHandlers: SocketHandler<SocketSlot> = {
  data: (s, chunk) => s.data.transport?.received(chunk),
  drain: (s) => s.data.transport?.drain(),
  close: (s, err) => s.data.transport?.gone(err),
  error: (s, err) => s.data.transport?.gone(err),
  end: (s) => {
    s.data.transport?.gone();
    s.end();
  },
};

/** Connects to a unix socket; rejects with the system's error when nothing listens there. */
export async function dialUnix(path: string): Promise<Transport> {
  const socket = await Bun.connect<SocketSlot>({ unix: path, socket: socketHandlers, data: {} });
  return new SocketTransport(socket, `unix:${path}`);
}

export interface Listener {
  readonly description: string;
  stop(): void;
}

/** Listens on a unix socket (replacing a stale one) and hands each connection over. */
export function listenUnix(path: string, onTransport: (t: Transport) => void): Listener {
  rmSync(path, { force: true });
  const server = Bun.listen<SocketSlot>({
    unix: path,
    data: {},
    socket: {
      ...socketHandlers,
      open: (s) => onTransport(new SocketTransport(s, `unix:${path}`)),
    },
  });
  return { description: `unix:${path}`, stop: () => server.stop(true) };
}
