import { ShedError } from "../../../api/errors.ts";
import type { Transport } from "../transport.ts";
import { SocketTransport, type SocketSlot, socketHandlers } from "./socket.ts";

/**
 * Host side of Firecracker's hybrid vsock: a unix socket where the first line we send is
 * `CONNECT <port>\n` and Firecracker answers `OK <host port>\n` once the guest accepted.
 */
export async function dialHybridVsock(udsPath: string, port: number, timeoutMs = 5000): Promise<Transport> {
  let answer = "";
  let settle!: { resolve: () => void; reject: (e: Error) => void };
  const handshake = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  let transport: SocketTransport | undefined;
  const socket = await Bun.connect<SocketSlot>({
    unix: udsPath,
    data: {},
    socket: {
      ...socketHandlers,
      data: (s, chunk) => {
        if (s.data.transport) return s.data.transport.received(chunk);
        answer += new TextDecoder().decode(chunk);
        const nl = answer.indexOf("\n");
        if (nl < 0) {
          if (answer.length > 64) settle.reject(refused(udsPath, port, answer));
          return;
        }
        const line = answer.slice(0, nl);
        if (!/^OK \d+$/.test(line)) return settle.reject(refused(udsPath, port, line));
        transport = new SocketTransport(s, `vsock-uds:${udsPath}:${port}`);
        const rest = new TextEncoder().encode(answer.slice(nl + 1));
        if (rest.length) transport.received(rest);
        settle.resolve();
      },
      close: (s, err) => {
        if (s.data.transport) return s.data.transport.gone(err);
        settle.reject(refused(udsPath, port, "connection closed"));
      },
    },
  });
  socket.write(`CONNECT ${port}\n`);
  const timer = setTimeout(() => settle.reject(refused(udsPath, port, `no answer in ${timeoutMs} ms`)), timeoutMs);
  try {
    await handshake;
  } catch (err) {
    socket.end();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return transport!;
}

function refused(path: string, port: number, why: string): ShedError {
  return new ShedError("AGENT_UNAVAILABLE", `vsock port ${port} via ${path} refused: ${why.trim() || "empty answer"}`);
}
