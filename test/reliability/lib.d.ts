/** Knobs of the reliability suite: CI's bounded defaults, more for a long run. */
export declare const KNOBS: {
    /** Requests per auth mode of the API fuzz. */
    fuzzRequests: number;
    /** kill -9 loops of the crash-consistency test. */
    loops: number;
    /** Frames sent to the agent. */
    agentFrames: number;
    /** Seed of every random choice, printed, so a failure can be replayed. */
    seed: number;
};
/** Deterministic random numbers (LCG), so a failing run can be replayed with its seed. */
export declare function rng(seed: number): {
    next(): number;
    int(n: number): number;
    pick<T>(xs: readonly T[]): T;
    chance(p: number): boolean;
};
/** Resident memory of a process in MiB (/proc/PID/status VmRSS). */
export declare function rssMiB(pid: number): number;
export declare function processAlive(pid: number): boolean;
