import type { Progress, ProgressEvent } from "../../api/schemas/shed.ts";

/**
 * Progress for many layers without flooding the stream: a layer's byte counts go out at
 * most every `intervalMs`; status changes and completion always go out.
 */
export function throttledProgress(progress: Progress, intervalMs = 200): Progress {
  const last = new Map<string, { at: number; status: string }>();
  return (e: ProgressEvent) => {
    const prev = last.get(e.id);
    const now = Date.now();
    const done = e.total !== undefined && e.current === e.total;
    if (prev && prev.status === e.status && !done && now - prev.at < intervalMs) return;
    last.set(e.id, { at: now, status: e.status });
    progress(e);
  };
}
