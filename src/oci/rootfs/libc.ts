import { dlopen, FFIType, ptr, read } from "bun:ffi";

/**
 * The few libc calls node:fs lacks and extraction needs: mknod (device nodes, fifos) and the
 * xattr family (file capabilities). Loaded on first use; Linux only, like erofs itself.
 */
let lib: ReturnType<typeof open> | undefined;

function open() {
  return dlopen("libc.so.6", {
    mknod: { args: [FFIType.cstring, FFIType.u32, FFIType.u64], returns: FFIType.i32 },
    fsetxattr: { args: [FFIType.i32, FFIType.cstring, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    lsetxattr: { args: [FFIType.cstring, FFIType.cstring, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    lgetxattr: { args: [FFIType.cstring, FFIType.cstring, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    llistxattr: { args: [FFIType.cstring, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
}

function libc() {
  lib ??= open();
  return lib.symbols;
}

/** An errno from libc as a Node-style error (`code` is "EPERM", ...). */
export class LibcError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    readonly path: string,
  ) {
    const code = ERRNO_NAMES[errno] ?? `errno ${errno}`;
    super(`${call} ${path}: ${code}`);
    this.code = code;
  }
  readonly code: string;
}

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  13: "EACCES",
  17: "EEXIST",
  20: "ENOTDIR",
  22: "EINVAL",
  28: "ENOSPC",
  34: "ERANGE",
  61: "ENODATA",
  95: "EOPNOTSUPP",
  122: "EDQUOT",
};

function errno(): number {
  const p = libc().__errno_location();
  return p ? read.i32(p, 0) : 0;
}

function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`, "utf8");
}

/** Linux's makedev (glibc's encoding, which the kernel's new_encode_dev matches). */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major >>> 0);
  const mi = BigInt(minor >>> 0);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

/** mknod(2): never follows a final symlink (it fails with EEXIST on any existing name). */
export function mknod(path: string, mode: number, dev: bigint): void {
  if (libc().mknod(cstr(path), mode, dev) !== 0) throw new LibcError("mknod", errno(), path);
}

export function fsetxattr(fd: number, name: string, value: Uint8Array, path: string): void {
  const buf = value.byteLength > 0 ? value : new Uint8Array(1);
  if (libc().fsetxattr(fd, cstr(name), ptr(buf), value.byteLength, 0) !== 0) throw new LibcError(`fsetxattr ${name}`, errno(), path);
}

/** lsetxattr(2): on the link itself, never its target. */
export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  const buf = value.byteLength > 0 ? value : new Uint8Array(1);
  if (libc().lsetxattr(cstr(path), cstr(name), ptr(buf), value.byteLength, 0) !== 0) throw new LibcError(`lsetxattr ${name}`, errno(), path);
}

/** An xattr's value, or undefined when the file has none of that name. */
export function lgetxattr(path: string, name: string): Uint8Array | undefined {
  const size = Number(libc().lgetxattr(cstr(path), cstr(name), null, 0));
  if (size < 0) {
    const e = errno();
    if (e === 61) return undefined;
    throw new LibcError(`lgetxattr ${name}`, e, path);
  }
  const buf = new Uint8Array(Math.max(size, 1));
  const got = Number(libc().lgetxattr(cstr(path), cstr(name), ptr(buf), buf.byteLength));
  if (got < 0) throw new LibcError(`lgetxattr ${name}`, errno(), path);
  return buf.subarray(0, got);
}

export function llistxattr(path: string): string[] {
  const size = Number(libc().llistxattr(cstr(path), null, 0));
  if (size < 0) throw new LibcError("llistxattr", errno(), path);
  if (size === 0) return [];
  const buf = new Uint8Array(size);
  const got = Number(libc().llistxattr(cstr(path), ptr(buf), size));
  if (got < 0) throw new LibcError("llistxattr", errno(), path);
  return Buffer.from(buf.subarray(0, got)).toString("utf8").split("\0").filter(Boolean);
}
