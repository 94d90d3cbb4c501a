import type { Progress, ProgressEvent } from "../api/schemas/shed.ts";

/** The phases `shed create --timings` reports, in the order a create goes through them. */
export const CREATE_PHASES = ["image", "storage", "start", "agent", "provisioning"] as const;
export type CreatePhase = (typeof CREATE_PHASES)[number];

/** Which phase a progress item belongs to (backends name items; anything after the agent is provisioning). */
function phaseOf(id: string, after: CreatePhase | undefined): CreatePhase {
  if (after === "agent" || after === "provisioning") return id === "agent" ? "agent" : "provisioning";
  if (id === "image" || id === "rootfs" || id.startsWith("sha256:") || id === "pull") return "image";
  if (id === "volume" || id === "disk") return "storage";
  if (id === "container" || id === "vm") return "start";
  if (id === "agent") return "agent";
  return after ?? "image";
}

/**
 * Times a create's phases from its progress events as they arrive: a phase lasts from its
 * first event to the next phase's first (the last one to `finish`). Phases a backend skipped
 * (an image already in the engine reports no storage of its own, say) are 0.
 */
export class CreateTimings {
  private readonly t0 = performance.now();
  private marks: { phase: CreatePhase; at: number }[] = [];

  /** Wraps a progress callback so every event also marks its phase. */
  track(inner: Progress): Progress {
    return (e: ProgressEvent) => {
      const current = this.marks.at(-1)?.phase;
      const phase = phaseOf(e.id, current);
      if (phase !== current) this.marks.push({ phase, at: performance.now() });
      inner(e);
    };
  }

  /** Milliseconds per phase and the total, at the end of the create. */
  finish(): Record<CreatePhase | "total", number> {
    const end = performance.now();
    const out = Object.fromEntries(CREATE_PHASES.map((p) => [p, 0])) as Record<CreatePhase | "total", number>;
    // The request and whatever came before the first event count to the first phase.
    this.marks.forEach((m, i) => {
      const from = i === 0 ? this.t0 : m.at;
      out[m.phase] += Math.round((this.marks[i + 1]?.at ?? end) - from);
    });
    out.total = Math.round(end - this.t0);
    return out;
  }
}

export function formatTimings(t: Record<string, number>): string {
  return `timings: ${Object.entries(t)
    .map(([k, ms]) => `${k} ${ms} ms`)
    .join(", ")}`;
}
