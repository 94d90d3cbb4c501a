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
export declare function median(xs: number[]): number;
/** Times two async actions `runs` times each, interleaved; returns medians in ms. */
export declare function compareTimes(opts: {
    name: string;
    peerName: string;
    runs: number;
    warmup?: number;
    ours: () => Promise<unknown>;
    peer: () => Promise<unknown>;
    target?: string;
}): Promise<Comparison>;
/** Prints one comparison as a line (and a JSON line when BENCH_JSON=1). */
export declare function report(c: Comparison): Comparison;
/** Runs a command to completion, throwing on a non-zero exit (benchmarks must not time failures). */
export declare function run(argv: string[], opts?: {
    env?: Record<string, string>;
    stdout?: "ignore" | "pipe";
}): Promise<void>;
/** Like compareTimes, for a transfer of `bytes`: medians in MB/s, higher is better. */
export declare function compareRates(opts: {
    name: string;
    peerName: string;
    runs: number;
    bytes: number;
    ours: () => Promise<unknown>;
    peer: () => Promise<unknown>;
    target?: string;
}): Promise<Comparison>;
