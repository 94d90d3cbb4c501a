import { rmSync } from "node:fs";
import { ShedError } from "../../api/errors.ts";

/**
 * A listening unix socket as a bare descriptor, for QEMU to inherit (`-chardev
 * socket,fd=N,server=on`): the server binds it where only root can reach it, so the
 * unprivileged QEMU needs no writable directory, and no other local user can connect to the
 * VM's QMP or agent port. Bun's own listeners do not hand out their fd, so this is bun:ffi.
 */
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SUN_PATH_MAX = 107;

let lib: Awaited<ReturnType<typeof load>> | undefined;

async function load() {
  const { dlopen, FFIType, ptr, read } = await import("bun:ffi");
  const libc = dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  return { libc: libc.symbols, ptr, errno: () => read.i32(libc.symbols.__errno_location()!, 0) };
}

/** Binds `path` (replacing a stale socket file there) and returns the listening fd. */
export async function listenUnixFd(path: string): Promise<number> {
  const bytes = Buffer.from(path, "utf8");
  if (bytes.length > SUN_PATH_MAX) throw new ShedError("INTERNAL", `socket path too long for a unix socket: ${path}`);
  lib ??= await load();
  const { libc, ptr, errno } = lib;
  rmSync(path, { force: true });
  // struct sockaddr_un: sa_family_t (u16), then the NUL-terminated path.
  const addr = new Uint8Array(2 + SUN_PATH_MAX + 1);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(bytes, 2);
  const fd = libc.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new ShedError("INTERNAL", `socket() for ${path} failed (errno ${errno()})`);
  if (libc.bind(fd, ptr(addr), 2 + bytes.length + 1) < 0 || libc.listen(fd, 16) < 0) {
    const e = errno();
    libc.close(fd);
    throw new ShedError("INTERNAL", `cannot listen on ${path} (errno ${e})`);
  }
  return fd;
}
