import type { Readable, Writable } from "node:stream";
import { type Transport, type TransportReceiver, WriteQueue } from "../transport.ts";

/**
 * A Transport over a pair of node streams: the agent's stdin and stdout.
 */
export class NodeStreamTransport implements Transport {
  private readonly queue: WriteQueue;
  private ended = false;
  private receiver: TransportReceiver | undefined;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    readonly description: string,
  ) {
    this.queue = new WriteQueue((chunk) => {
      if (this.ended) return -1;
      // Node streams take the whole chunk; false means "wait for drain" before more.
      if (!output.write(chunk)) {
        this.blocked = true;
      }
      return chunk.length;
    });
    output.on("drain", () => {
      this.blocked = false;
      this.queue.resume();
    });
    output.on("error", (err) => this.finish(err));
  }

  private blocked = false;

  start(receiver: TransportReceiver): void {
    this.receiver = receiver;
    this.input.on("data", (chunk: Buffer) => receiver.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
    this.input.on("end", () => this.finish());
    this.input.on("error", (err) => this.finish(err));
  }

  write(chunk: Uint8Array): boolean {
    const ok = this.queue.push(chunk);
    return ok && !this.blocked;
  }

  drained(): Promise<void> {
    if (!this.blocked) return this.queue.drained();
    return new Promise((resolve) => this.output.once("drain", () => resolve()));
  }

  close(): void {
    this.queue.flush();
    this.output.end();
    this.input.destroy();
    this.finish();
  }

  private finish(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.kill();
    this.receiver?.end(err);
  }
}

export function stdioTransport(): Transport {
  return new NodeStreamTransport(process.stdin, process.stdout, "stdio");
}
