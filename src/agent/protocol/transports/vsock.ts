import type { Transport } from "../transport.ts";
import { type Listener, SocketTransport, type SocketSlot, socketHandlers } from "./socket.ts";

/**
 * Guest side of AF_VSOCK (Firecracker, VZ, QEMU with vhost-vsock): Bun has no vsock sockets,
 * so the listening socket is made with bun:ffi and each accepted fd is wrapped with
 * Bun.connect({ fd }). Never used on a host: its vsock belongs to the machine it runs on.
 */
const AF_VSOCK = 40;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const VMADDR_CID_ANY = 0xffffffff;
const EAGAIN = 11;
/** How often an idle listener looks for a new connection; connections are long-lived. */
const ACCEPT_POLL_MS = 20;

/** struct sockaddr_vm for `port` on any CID. */
export function sockaddrVm(port: number, cid = VMADDR_CID_ANY): Uint8Array {
  const buf = new Uint8Array(16);
  const view = new DataView(buf.buffer);
  view.setUint16(0, AF_VSOCK, true);
  view.setUint32(4, port, true);
  view.setUint32(8, cid, true);
  return buf;
}

export async function listenVsock(port: number, onTransport: (t: Transport) => void): Promise<Listener> {
  const { dlopen, FFIType, ptr, read } = await import("bun:ffi");
  const libc = dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    accept4: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  const errno = () => read.i32(libc.symbols.__errno_location()!, 0);
  const fd = libc.symbols.socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`vsock socket() failed (errno ${errno()}): no vsock device in this guest?`);
  const addr = sockaddrVm(port);
  if (libc.symbols.bind(fd, ptr(addr), addr.length) < 0 || libc.symbols.listen(fd, 64) < 0) {
    const e = errno();
    libc.symbols.close(fd);
    throw new Error(`vsock bind/listen on port ${port} failed (errno ${e})`);
  }
  const timer = setInterval(async () => {
    for (;;) {
      const conn = libc.symbols.accept4(fd, null, null, SOCK_CLOEXEC);
      if (conn < 0) {
        if (errno() !== EAGAIN) clearInterval(timer);
        return;
      }
      const socket = await Bun.connect<SocketSlot>({ fd: conn, socket: socketHandlers, data: {} } as never);
      onTransport(new SocketTransport(socket, `vsock:${port}`));
    }
  }, ACCEPT_POLL_MS);
  return {
    description: `vsock:${port}`,
    stop: () => {
      clearInterval(timer);
      libc.symbols.close(fd);
    },
  };
}
