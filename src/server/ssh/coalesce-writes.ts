import type { Socket } from "node:net";

/**
 * Makes the writes ssh2 does on `sock` within one tick go out as one send.
 *
 * ssh2 writes every packet as several pieces (with AES-GCM: the 4-byte length, the ciphertext,
 * the 16-byte tag), each its own socket.write. With TCP_NODELAY (set for interactive sessions)
 * that is a send(2) and a TCP segment per piece: three syscalls per 32 KiB packet on a bulk
 * transfer, and the client woken for a 4-byte segment. Corking until the end of the tick keeps
 * NODELAY's latency (nothing waits past the current callback) and sends each burst at once.
 */
export function coalesceWrites(sock: Socket): void {
  const write = sock.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    sock.uncork();
  };
  sock.write = function (this: Socket, ...args: Parameters<Socket["write"]>) {
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(uncork);
    }
    return write.apply(this, args);
  } as Socket["write"];
}
