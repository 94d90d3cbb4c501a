/**
 * Benchmark helpers: every figure is measured beside its peer in the same run, interleaved
 * (ours, peer, ours, peer, ...) so machine noise hits both alike, and printed with the ratio.
 */
export interface Comparison {
  name: string;
  unit: string;
  ours: number;
  peer: number;
  peerName: string;
  /** ours / peer: below 1 is better for times, above 1 for throughputs. */
  ratio: number;
  /** Lower is better (times) or higher (throughput). */
  better: "lower" | "higher";
  target?: string;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Times two async actions `runs` times each, interleaved; returns medians in ms. */
export async function compareTimes(opts: {
  name: string;
  peerName: string;
  runs: number;
  warmup?: number;
  ours: () => Promise<unknown>;
  peer: () => Promise<unknown>;
  target?: string;
}): Promise<Comparison> {
  for (let i = 0; i < (opts.warmup ?? 2); i++) {
    await opts.ours();
    await opts.peer();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    let t = performance.now();
    await opts.ours();
    a.push(performance.now() - t);
    t = performance.now();
    await opts.peer();
    b.push(performance.now() - t);
  }
  const ours = median(a);
  const peer = median(b);
  return report({ name: opts.name, unit: "ms", ours, peer, peerName: opts.peerName, ratio: ours / peer, better: "lower", target: opts.target });
}

/** Prints one comparison as a line (and a JSON line when BENCH_JSON=1). */
export function report(c: Comparison): Comparison {
  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const verdict = c.better === "lower" ? (c.ratio <= 1 ? "faster" : "slower") : c.ratio >= 1 ? "faster" : "slower";
  console.log(
    `${c.name.padEnd(44)} shed ${fmt(c.ours).padStart(8)} ${c.unit}   ${c.peerName} ${fmt(c.peer).padStart(8)} ${c.unit}   ratio ${c.ratio.toFixed(2)} (${verdict})${c.target ? `   target ${c.target}` : ""}`,
  );
  if (process.env.BENCH_JSON) console.log(JSON.stringify(c));
  return c;
}

/** Runs a command to completion, throwing on a non-zero exit (benchmarks must not time failures). */
export async function run(argv: string[], opts: { env?: Record<string, string>; stdout?: "ignore" | "pipe" } = {}): Promise<void> {
  const p = Bun.spawn(argv, { stdout: opts.stdout ?? "ignore", stderr: "pipe", env: { ...process.env, ...opts.env } });
  const code = await p.exited;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${await new Response(p.stderr).text()}`);
}

/** Like compareTimes, for a transfer of `bytes`: medians in MB/s, higher is better. */
export async function compareRates(opts: {
  name: string;
  peerName: string;
  runs: number;
  bytes: number;
  ours: () => Promise<unknown>;
  peer: () => Promise<unknown>;
  target?: string;
}): Promise<Comparison> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    let t = performance.now();
    await opts.ours();
    a.push(opts.bytes / 1e6 / ((performance.now() - t) / 1000));
    t = performance.now();
    await opts.peer();
    b.push(opts.bytes / 1e6 / ((performance.now() - t) / 1000));
  }
  const ours = median(a);
  const peer = median(b);
  return report({ name: opts.name, unit: "MB/s", ours, peer, peerName: opts.peerName, ratio: ours / peer, better: "higher", target: opts.target });
}
