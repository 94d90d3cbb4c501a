import { closeSync, openSync, writeFileSync, ftruncateSync } from "node:fs";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";

/**
 * One server per state dir: an exclusive flock(2) on <stateDir>/server.lock, held for the
 * server's life. The kernel drops it when the owner dies however it dies (kill -9 included),
 * so there is no stale lock to take over and no pid to trust (a pid can be reused). Bun has
 * no flock, so it is called through bun:ffi; the fd is close-on-exec (VMs the server starts
 * do not inherit the lock). The pid is written into the file for people, never read back.
 */
const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

export interface DirLock {
  release(): void;
}

export async function lockStateDir(stateDir: string): Promise<DirLock> {
  const { dlopen, FFIType, read } = await import("bun:ffi");
  const libc = dlopen("libc.so.6", {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  const file = join(stateDir, "server.lock");
  const fd = openSync(file, "a+", 0o600);
  if (libc.symbols.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    const errno = read.i32(libc.symbols.__errno_location()!, 0);
    closeSync(fd);
    libc.close();
    if (errno === EWOULDBLOCK) {
      throw new ShedError(
        "INVALID_CONFIG",
        `another shed-server already uses the state dir ${stateDir} (it holds ${file}); stop it first, or give this one another --state-dir`,
      );
    }
    throw new ShedError("INVALID_CONFIG", `cannot lock ${file} (errno ${errno}); check the state dir's file system`);
  }
  ftruncateSync(fd);
  writeFileSync(fd, `${process.pid}\n`);
  return {
    release() {
      // Closing the fd drops the lock.
      try {
        closeSync(fd);
      } catch {}
      libc.close();
    },
  };
}
