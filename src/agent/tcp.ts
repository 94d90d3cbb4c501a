import { ShedError } from "../api/errors.ts";
import type { ByteDuplex } from "./protocol/api.ts";

/** A TCP connection from inside the guest, as web streams (tunnels, direct-tcpip). */
export async function dialTcp(port: number, host = "127.0.0.1"): Promise<ByteDuplex> {
  let push!: ReadableStreamDefaultController<Uint8Array>;
  const readable = new ReadableStream<Uint8Array>({ start: (c) => (push = c) });
  let drained: (() => void) | undefined;
  let socket: Awaited<ReturnType<typeof Bun.connect>>;
  try {
    socket = await Bun.connect({
      hostname: host,
      port,
      socket: {
        data: (_s, chunk) => push.enqueue(new Uint8Array(chunk)),
        drain: () => drained?.(),
        end: () => {
          try {
            push.close();
          } catch {}
        },
        close: () => {
          try {
            push.close();
          } catch {}
          drained?.();
        },
        error: (_s, err) => push.error(err),
      },
    });
  } catch (err) {
    throw new ShedError("CONNECTION_REFUSED", `nothing answers on ${host}:${port} in the shed`, { cause: err });
  }
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      let at = 0;
      while (at < chunk.length) {
        const n = socket.write(chunk.subarray(at));
        if (n < 0) throw new Error("connection closed");
        at += n;
        if (at < chunk.length) await new Promise<void>((r) => (drained = r));
      }
    },
    close: () => {
      socket.shutdown();
    },
    abort: () => {
      socket.end();
    },
  });
  return { readable, writable };
}
