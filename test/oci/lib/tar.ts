/** A tar of a directory as a stream (GNU tar), for loading test layouts. */
export function tarOfDir(dir: string): ReadableStream<Uint8Array> {
  const p = Bun.spawn(["tar", "-C", dir, "-cf", "-", "."], { stdout: "pipe" });
  return p.stdout as ReadableStream<Uint8Array>;
}
