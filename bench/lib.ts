/**
 * Benchmark helpers: every figure is measured beside its peer in the same run, interleaved
 * (ours, peer, ours, peer, ...) so machine noise hits both alike, and printed with the ratio.
 * Each row is also appended (one JSON line) to $BENCH_RESULTS, from which `bench/run.ts`
 * prints the summary table and writes bench/results/latest.json.
 */
import { appendFileSync } from "node:fs";
import { basename } from "node:path";

export interface Comparison {
  name: string;
  unit: string;
  ours: number;
  peer: number;
  peerName: string;
  /** ours / peer: below 1 is better for times, above 1 for throughputs. */
  ratio: number;
  /** Lower is better (times, sizes) or higher (throughput). */
  better: "lower" | "higher";
  /** "<= 0.5x" or ">= 1.2x"; without one the row must be ahead of its peer (<= 1x or >= 1x). */
  target?: string;
  /** What the row ran on: a VM accelerator (kvm, tcg) or "container". */
  accel?: string;
  /** Context for the reader: phases, counts, why a target is out of reach. */
  note?: string;
}

/** A row as the table keeps it: its bench file, its target made explicit, and whether it is met. */
export interface ResultRow extends Comparison {
  bench: string;
  target: string;
  met: boolean;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The p-th percentile (0..100), nearest rank. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/**
 * Whether a row meets its target: "<= 0.5x" / ">= 1.2x" bound the ratio; "<= 35 MB" (any
 * unit word) bounds our own figure. Throws on a target it cannot read.
 */
export function meets(ratio: number, target: string, ours = Number.NaN): boolean {
  const m = /^\s*(<=|>=)\s*([0-9.]+)\s*(x|[A-Za-z/]+)?\s*$/.exec(target);
  if (!m) throw new Error(`bench target "${target}" is not "<= N x", ">= N x" or "<= N unit"`);
  const bound = Number(m[2]);
  const value = !m[3] || m[3] === "x" ? ratio : ours;
  return m[1] === "<=" ? value <= bound : value >= bound;
}

export function resultRow(c: Comparison, bench: string): ResultRow {
  const target = c.target ?? (c.better === "lower" ? "<= 1.0x" : ">= 1.0x");
  return { ...c, bench, target, met: Number.isFinite(c.ratio) && meets(c.ratio, target, c.ours) };
}

const benchName = basename(process.argv[1] ?? "bench").replace(/\.bench\.ts$/, "");

/** Prints one comparison as a line and records it for the summary table. */
export function report(c: Comparison): Comparison {
  const row = resultRow(c, benchName);
  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const verdict = c.better === "lower" ? (c.ratio <= 1 ? "faster" : "slower") : c.ratio >= 1 ? "faster" : "slower";
  console.log(
    `${c.name.padEnd(44)} shed ${fmt(c.ours).padStart(8)} ${c.unit}   ${c.peerName} ${fmt(c.peer).padStart(8)} ${c.unit}   ratio ${c.ratio.toFixed(2)} (${verdict})   target ${row.target} ${row.met ? "met" : "NOT met"}${c.accel ? `   [${c.accel}]` : ""}`,
  );
  if (c.note) console.log(`  ${c.note}`);
  if (process.env.BENCH_RESULTS) appendFileSync(process.env.BENCH_RESULTS, `${JSON.stringify(row)}\n`);
  return c;
}

/** Runs a command to completion, throwing on a non-zero exit (benchmarks must not time failures). */
export async function run(argv: string[], opts: { env?: Record<string, string>; stdout?: "ignore" | "pipe"; stdin?: string } = {}): Promise<void> {
  const p = Bun.spawn(argv, {
    stdin: opts.stdin ? Bun.file(opts.stdin) : "ignore",
    stdout: opts.stdout ?? "ignore",
    stderr: "pipe",
    env: { ...process.env, ...opts.env },
  });
  const code = await p.exited;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${await new Response(p.stderr).text()}`);
}

type Measured = Omit<Comparison, "ours" | "peer" | "ratio" | "better" | "unit">;

/** Times two async actions `runs` times each, interleaved; returns medians in ms. */
export async function compareTimes(
  opts: Measured & { runs: number; warmup?: number; ours: () => Promise<unknown>; peer: () => Promise<unknown> },
): Promise<Comparison> {
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
  return report(comparison(opts, "ms", median(a), median(b), "lower"));
}

/**
 * Like compareTimes, for a transfer of `bytes`: medians in MB/s, higher is better. `noteAfter`
 * gives the row's note once the runs are done (a figure counted during them, such as CPU).
 */
export async function compareRates(
  opts: Measured & {
    runs: number;
    bytes: number;
    ours: () => Promise<unknown>;
    peer: () => Promise<unknown>;
    noteAfter?: () => string | undefined;
  },
): Promise<Comparison> {
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
  const note = opts.noteAfter?.() ?? opts.note;
  return report(comparison({ ...opts, note }, "MB/s", median(a), median(b), "higher"));
}

export function comparison(m: Measured, unit: string, ours: number, peer: number, better: "lower" | "higher"): Comparison {
  const { name, peerName, target, accel, note } = m;
  return { name, peerName, unit, ours, peer, ratio: ours / peer, better, target, accel, note };
}
