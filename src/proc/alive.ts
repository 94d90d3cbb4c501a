/**
 * Whether a process with this pid exists (a zombie counts until it is reaped). EPERM means it
 * exists but belongs to another user: alive, unless `ours` asks for one of this user's own.
 * Only a hint: pids are reused, so callers that must know it is *their* process check more
 * (the qemu backend matches its command line).
 */
export function processAlive(pid: number, opts: { ours?: boolean } = {}): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !opts.ours && (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
