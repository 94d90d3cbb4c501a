import { ShedError } from "../api/errors.ts";
import type { ByteDuplex } from "./protocol/api.ts";
import { pushStream } from "./push-stream.ts";

/** A TCP connection from inside the guest, as web streams (tunnels, direct-tcpip). */
export async function dialTcp(port: number, host = "127.0.0.1"): Promise<ByteDuplex> {
  const out = pushStream();
  let drained: (() => void) | undefined;
  let socket: Awaited<ReturnType<typeof Bun.connect>>;
  try {
    socket = await Bun.connect({
      hostname: host,
      port,
      socket: {
        data: (_s, chunk) => out.push(new Uint8Array(chunk)),
        drain: () => drained?.(),
        end: () => out.end(),
        close: () => {
          out.end();
          drained?.();
        },
        error: (_s, err) => out.fail(err),
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
  return { readable: out.readable, writable };
}
