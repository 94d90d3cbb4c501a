import type { Transport, TransportReceiver } from "../transport.ts";

/** Two connected in-process transports: tests, and a fuzzer feeding raw bytes to one end. */
export function memoryPair(): [MemoryTransport, MemoryTransport] {
  const a = new MemoryTransport("memory:a");
  const b = new MemoryTransport("memory:b");
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export class MemoryTransport implements Transport {
  peer!: MemoryTransport;
  private receiver: TransportReceiver | undefined;
  private pending: Uint8Array[] = [];
  private ended = false;

  constructor(readonly description: string) {}

  start(receiver: TransportReceiver): void {
    queueMicrotask(() => {
      this.receiver = receiver;
      for (const c of this.pending.splice(0)) receiver.data(c);
      if (this.ended) receiver.end();
    });
  }

  write(chunk: Uint8Array): boolean {
    if (!this.ended) {
      const copy = chunk.slice();
      queueMicrotask(() => this.peer.deliver(copy));
    }
    return true;
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    if (this.ended) return;
    this.finish();
    queueMicrotask(() => this.peer.finish());
  }

  private deliver(chunk: Uint8Array): void {
    if (this.ended) return;
    if (this.receiver) this.receiver.data(chunk);
    else this.pending.push(chunk);
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.receiver?.end();
  }
}
