/**
 * Per-channel, credit-based flow control. A receiver grants `window` bytes when a stream
 * opens and grants more (WINDOW frames) only as its consumer reads, so a slow reader stalls
 * its own sender and nobody else on the connection; data never piles up unbounded.
 */

/** Receiving side of one channel: a queue drained by a ReadableStream. */
export class InboundChannel {
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  /** Bytes the peer may still send before it needs more credit. */
  private outstanding: number;
  /** Consumed bytes not yet granted back. */
  private unacked = 0;
  private ended = false;
  private failure: Error | undefined;
  private waiting: (() => void) | undefined;
  readonly readable: ReadableStream<Uint8Array>;

  constructor(
    private readonly window: number,
    private readonly grant: (n: number) => void,
  ) {
    this.outstanding = window;
    this.readable = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => this.pull(controller),
        cancel: () => {
          // Nobody reads any more: drop what is queued and keep granting so the sender is not stuck.
          this.cancelled = true;
          this.consumed(this.queuedBytes);
          this.queue = [];
          this.queuedBytes = 0;
        },
      },
      { highWaterMark: 0 },
    );
  }

  private cancelled = false;

  /** Bytes arrived; false when the peer sent more than its credit (a protocol violation). */
  push(chunk: Uint8Array): boolean {
    if (chunk.length > this.outstanding) return false;
    this.outstanding -= chunk.length;
    if (this.ended) return true;
    if (this.cancelled) {
      this.consumed(chunk.length);
      return true;
    }
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    this.wake();
    return true;
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  fail(err: Error): void {
    if (this.ended) return;
    this.failure = err;
    this.ended = true;
    this.wake();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  private async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    while (this.queue.length === 0) {
      // Cancelled while waiting: the controller is closed, and touching it would throw.
      if (this.cancelled) return;
      if (this.failure && !this.cancelled) {
        controller.error(this.failure);
        return;
      }
      if (this.ended) {
        controller.close();
        return;
      }
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
    if (this.cancelled) return;
    const chunk = this.queue.shift()!;
    this.queuedBytes -= chunk.length;
    controller.enqueue(chunk);
    this.consumed(chunk.length);
  }

  private consumed(n: number): void {
    if (this.ended && !this.cancelled) return;
    this.unacked += n;
    // Grant in batches (a quarter window) so WINDOW frames stay few.
    if (this.unacked >= this.window / 4) {
      const n = this.unacked;
      this.unacked = 0;
      this.outstanding += n;
      this.grant(n);
    }
  }
}

/** Sending side of one channel: waits for credit before each piece. */
export class OutboundChannel {
  private credit: number;
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  ended = false;

  constructor(initialCredit: number) {
    this.credit = initialCredit;
  }

  /** More credit from a WINDOW frame; false when it would overflow (a protocol violation). */
  grant(n: number): boolean {
    if (this.credit + n > 0xffffffff) return false;
    this.credit += n;
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
    return true;
  }

  fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Takes up to `want` bytes of credit, waiting until at least one is available. */
  async take(want: number): Promise<number> {
    while (this.credit === 0) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    if (this.failure) throw this.failure;
    const n = Math.min(want, this.credit);
    this.credit -= n;
    return n;
  }

  get available(): number {
    return this.credit;
  }
}
