/**
 * A byte pipe the protocol runs over: a unix or vsock socket, stdio, a serial port or a
 * WebSocket. Delivery is in order; writes are queued and coalesced, and `write` says when
 * the caller should wait for `drained()` (the queue is over its high-water mark).
 */
export interface Transport {
  /** Starts delivering received bytes. Called once. */
  start(receiver: TransportReceiver): void;
  /** Queues bytes; false when the queue is past its high-water mark. */
  write(chunk: Uint8Array): boolean;
  /** Resolves when the queue is below its high-water mark again (or the transport closed). */
  drained(): Promise<void>;
  /** Closes both directions; pending output is flushed first when possible. */
  close(): void;
  /** For logs: "unix:/path", "stdio", "serial:/dev/..." */
  readonly description: string;
}

export interface TransportReceiver {
  data(chunk: Uint8Array): void;
  /** The peer is gone (EOF or an error); called once. */
  end(error?: Error): void;
}

export const HIGH_WATER_MARK = 4 * 1024 * 1024;
/** Writes smaller than this are copied together into one syscall; larger ones go as they are. */
const COALESCE_LIMIT = 64 * 1024;

/**
 * The write queue shared by transports: collects writes made in one tick and hands them to
 * `sink` as few, larger buffers. `sink` returns how many bytes it took (less under backpressure,
 * -1 when closed); the rest is retried on `resume()`.
 */
export class WriteQueue {
  private parts: Uint8Array[] = [];
  private bytes = 0;
  private scheduled = false;
  private blocked = false;
  private waiters: (() => void)[] = [];
  private dead = false;

  constructor(
    private readonly sink: (chunk: Uint8Array) => number,
    private readonly highWaterMark = HIGH_WATER_MARK,
  ) {}

  push(chunk: Uint8Array): boolean {
    if (this.dead) return true;
    if (chunk.length === 0) return this.bytes < this.highWaterMark;
    this.parts.push(chunk);
    this.bytes += chunk.length;
    if (!this.scheduled && !this.blocked) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
    return this.bytes < this.highWaterMark;
  }

  get pending(): number {
    return this.bytes;
  }

  /** The sink can take more (socket drain). */
  resume(): void {
    this.blocked = false;
    this.flush();
  }

  drained(): Promise<void> {
    if (this.bytes < this.highWaterMark || this.dead) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Nothing more will be written (transport closed): wake waiters, drop the queue. */
  kill(): void {
    this.dead = true;
    this.parts = [];
    this.bytes = 0;
    this.wake();
  }

  flush(): void {
    this.scheduled = false;
    while (this.parts.length > 0 && !this.blocked && !this.dead) {
      const chunk = this.takeChunk();
      const n = this.sink(chunk);
      if (n < 0) {
        this.kill();
        return;
      }
      if (n < chunk.length) {
        this.parts.unshift(chunk.subarray(n));
        this.bytes -= n;
        this.blocked = true;
        break;
      }
      this.bytes -= chunk.length;
    }
    if (this.bytes < this.highWaterMark) this.wake();
  }

  private takeChunk(): Uint8Array {
    const first = this.parts[0]!;
    if (first.length >= COALESCE_LIMIT || this.parts.length === 1) {
      this.parts.shift();
      return first;
    }
    let n = 0;
    let count = 0;
    for (const p of this.parts) {
      if (n + p.length > COALESCE_LIMIT * 4 && count > 0) break;
      n += p.length;
      count++;
    }
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of this.parts.splice(0, count)) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
