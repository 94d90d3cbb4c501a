import { closeSync, openSync } from "node:fs";
import { ShedError } from "../../api/errors.ts";

/**
 * An open descriptor on a (persistent) tap, for a VMM that takes one (`-netdev tap,fd=N`):
 * the server attaches as root, so the unprivileged VMM needs neither access to
 * /dev/net/tun (often root-only) nor ownership of the tap. bun:ffi, for the ioctl.
 */
const TUNSETIFF = 0x400454ca;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
const IFF_VNET_HDR = 0x4000;

let lib: Awaited<ReturnType<typeof load>> | undefined;

async function load() {
  const { dlopen, FFIType, ptr, read } = await import("bun:ffi");
  const libc = dlopen("libc.so.6", {
    ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  return { ioctl: libc.symbols.ioctl, ptr, errno: () => read.i32(libc.symbols.__errno_location()!, 0) };
}

export async function openTap(name: string): Promise<number> {
  lib ??= await load();
  const fd = openSync("/dev/net/tun", "r+");
  // struct ifreq: ifr_name[IFNAMSIZ = 16], then ifr_flags (short); 40 bytes in all.
  const ifr = new Uint8Array(40);
  ifr.set(Buffer.from(name, "utf8").subarray(0, 15), 0);
  new DataView(ifr.buffer).setUint16(16, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, true);
  if (lib.ioctl(fd, TUNSETIFF, lib.ptr(ifr)) < 0) {
    const e = lib.errno();
    closeSync(fd);
    throw new ShedError("BACKEND_UNAVAILABLE", `VM network: cannot attach to tap ${name} (errno ${e}${e === 16 ? ": in use by another process" : ""})`);
  }
  return fd;
}
