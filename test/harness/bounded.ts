/**
 * `p`, or a rejection naming `what` once `ms` pass: a hook's steps each get a bound below the
 * hook's own, so a step that never ends fails with what it was waiting on (not vitest's bare
 * "hook timed out" after the whole hook budget).
 */
export async function bounded<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer after ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
