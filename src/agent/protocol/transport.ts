/**
 * A byte pipe the protocol runs over: a unix or vsock socket, stdio, a serial port or a
 * WebSocket. Delivery is in order; writes are queued and coalesced, and `write` says when
 * the caller should wait for `drained()` (the queue is over its high-water mark).
 */
import { concat } from "./frame.ts";

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
/** Writes that together stay under this are copied into one syscall; larger ones go as they are. */
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
    /** Runs a flush's sink calls together (a WebSocket's cork: one syscall, not one per message). */
    private readonly batch: (fn: () => void) => void = (fn) => fn(),
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
    if (this.parts.length > 0 && !this.blocked && !this.dead) this.batch(() => this.drain());
    if (this.bytes < this.highWaterMark) this.wake();
  }

  private drain(): void {
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
  }

  /**
   * The next buffer for the sink: small writes joined up to COALESCE_LIMIT, but a large one
   * never copied (a frame's header goes alone before its bulk payload: a second syscall or
   * WebSocket message is cheaper than copying the payload into a fresh buffer).
   */
  private takeChunk(): Uint8Array {
    const first = this.parts[0]!;
    let n = first.length;
    let count = 1;
    while (count < this.parts.length && n + this.parts[count]!.length <= COALESCE_LIMIT) n += this.parts[count++]!.length;
    if (count === 1) {
      this.parts.shift();
      return first;
    }
    return concat(this.parts.splice(0, count), n);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
