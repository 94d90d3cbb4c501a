/**
 * Locks of the store. One server owns a state dir, so in-process locks are enough.
 * - `OnceMap`: concurrent requests for the same blob share one download.
 * - `SweepLock`: pulls, loads and builds run together (shared); prune runs alone (exclusive),
 *   so it never sweeps blobs that an unfinished pull has installed but not yet tagged.
 */
export class OnceMap<T> {
  private readonly running = new Map<string, Promise<T>>();

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.running.get(key);
    if (existing) return existing;
    const p = fn().finally(() => this.running.delete(key));
    this.running.set(key, p);
    return p;
  }

  has(key: string): boolean {
    return this.running.has(key);
  }
}

export class SweepLock {
  private shared = 0;
  private exclusive: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  async withShared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.exclusive) await this.exclusive;
    this.shared++;
    try {
      return await fn();
    } finally {
      this.shared--;
      if (this.shared === 0) this.drained?.();
    }
  }

  async withExclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.exclusive) await this.exclusive;
    let release!: () => void;
    this.exclusive = new Promise<void>((r) => (release = r));
    try {
      if (this.shared > 0) await new Promise<void>((r) => (this.drained = r));
      this.drained = undefined;
      return await fn();
    } finally {
      this.exclusive = undefined;
      release();
    }
  }
}
