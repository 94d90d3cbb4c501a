import { closeSync, openSync } from "node:fs";
import { type Transport, type TransportReceiver, WriteQueue } from "../transport.ts";

/**
 * A serial link (virtio-serial port, or a FIFO pair in tests): a file descriptor each way,
 * read and written through Bun's non-blocking file streams so a quiet line never stalls
 * the agent's event loop. Opened read-write: a character device wants it, and a FIFO then
 * does not wait for its peer.
 */
export class SerialTransport implements Transport {
  readonly description: string;
  private readonly readFd: number;
  private readonly writeFd: number;
  private readonly sink: ReturnType<ReturnType<typeof Bun.file>["writer"]>;
  private readonly queue: WriteQueue;
  private flushing: Promise<unknown> | undefined;
  private ended = false;
  private receiver: TransportReceiver | undefined;

  constructor(readPath: string, writePath = readPath) {
    this.description = `serial:${readPath}`;
    this.readFd = openSync(readPath, "r+");
    this.writeFd = writePath === readPath ? this.readFd : openSync(writePath, "r+");
    this.sink = Bun.file(this.writeFd).writer({ highWaterMark: 256 * 1024 });
    this.queue = new WriteQueue((chunk) => {
      if (this.ended) return -1;
      this.sink.write(chunk);
      const flushed = this.sink.flush();
      if (flushed instanceof Promise) this.flushing = flushed;
      return chunk.length;
    });
  }

  start(receiver: TransportReceiver): void {
    this.receiver = receiver;
    void this.pump(receiver);
  }

  private async pump(receiver: TransportReceiver): Promise<void> {
    try {
      for await (const chunk of Bun.file(this.readFd).stream()) {
        if (this.ended) return;
        receiver.data(chunk);
      }
      this.finish();
    } catch (err) {
      this.finish(err as Error);
    }
  }

  write(chunk: Uint8Array): boolean {
    return this.queue.push(chunk) && !this.flushing;
  }

  async drained(): Promise<void> {
    await this.queue.drained();
    while (this.flushing) {
      const f = this.flushing;
      await f;
      if (this.flushing === f) this.flushing = undefined;
    }
  }

  close(): void {
    this.queue.flush();
    this.finish();
  }

  private finish(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.kill();
    try {
      this.sink.end();
    } catch {}
    for (const fd of new Set([this.readFd, this.writeFd])) {
      try {
        closeSync(fd);
      } catch {}
    }
    this.receiver?.end(err);
  }
}
