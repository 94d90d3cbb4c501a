/**
 * Polls `probe` once a second, at most `tries` times, until it gives `want`; returns the last
 * value otherwise, for the caller's assertion to show. A probe that throws (an exec while the
 * agent restarts its watch) counts as not yet, its message the value.
 */
export async function eventually(probe: () => Promise<string> | string, want: string, tries = 60): Promise<string> {
  let got = "";
  for (let i = 0; i < tries; i++) {
    got = await Promise.resolve()
      .then(probe)
      .catch((e: Error) => `(${e.message})`);
    if (got === want) return got;
    await Bun.sleep(1000);
  }
  return got;
}
