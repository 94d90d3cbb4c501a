import { readFileSync } from "node:fs";

/** Knobs of the reliability suite: CI's bounded defaults, more for a long run. */
export const KNOBS = {
  /** Requests per auth mode of the API fuzz. */
  fuzzRequests: Number(process.env.RELIABILITY_FUZZ_REQUESTS ?? 2500),
  /** kill -9 loops of the crash-consistency test. */
  loops: Number(process.env.RELIABILITY_LOOPS ?? 20),
  /** Frames sent to the agent. */
  agentFrames: Number(process.env.RELIABILITY_AGENT_FRAMES ?? 100_000),
  /** Seed of every random choice, printed, so a failure can be replayed. */
  seed: Number(process.env.RELIABILITY_SEED ?? 20261201),
};

/** Deterministic random numbers (LCG), so a failing run can be replayed with its seed. */
export function rng(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T; chance(p: number): boolean } {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)]!,
    chance: (p) => next() < p,
  };
}

/** Resident memory of a process in MiB (/proc/PID/status VmRSS). */
export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
