import { existsSync, readFileSync } from "node:fs";
import type { Logger } from "../log/logger.ts";

/**
 * Keeps a VM guest's clock from lagging after the host slept (the original's #240): while
 * the host sleeps the guest's clock stands still and nothing in the guest moves it on again,
 * but the VM's RTC reads the host's time. So every few seconds the RTC (whole seconds, UTC) is
 * read, and a system clock behind it by more than the RTC's resolution allows is stepped to
 * it. Ahead is left alone (stepping back hurts builds and logs more than a slow clock's
 * second). VM guests only (`--rtc-clock`): a container shares its host's clock.
 */
export const RTC_SINCE_EPOCH = "/sys/class/rtc/rtc0/since_epoch";
/** The RTC counts whole seconds: a lag below this is its rounding, not a sleep. */
export const STEP_THRESHOLD_S = 2;

/** Seconds to step forward, or 0: the RTC's reading vs the system clock's (ms since the epoch). */
export function lagBehindRtc(rtcSeconds: number, nowMs: number): number {
  const lag = rtcSeconds - nowMs / 1000;
  return lag > STEP_THRESHOLD_S ? lag : 0;
}

export interface RtcClockOptions {
  logger: Logger;
  intervalMs?: number;
  rtcPath?: string;
  /** Sets the system clock (seconds since the epoch); `date -u -s @N` by default. */
  step?: (epochSeconds: number) => Promise<void>;
}

async function dateStep(epochSeconds: number): Promise<void> {
  const p = Bun.spawn(["date", "-u", "-s", `@${epochSeconds}`], { stdout: "ignore", stderr: "pipe" });
  if ((await p.exited) !== 0) throw new Error(`date -s: ${(await new Response(p.stderr).text()).trim()}`);
}

/** Starts the watcher; returns its stop. Without an RTC it says so once and does nothing. */
export function watchRtcClock(opts: RtcClockOptions): () => void {
  const path = opts.rtcPath ?? RTC_SINCE_EPOCH;
  const step = opts.step ?? dateStep;
  if (!existsSync(path)) {
    opts.logger.warn("no RTC: the clock is not checked against it", { path });
    return () => {};
  }
  let busy = false;
  const check = async () => {
    if (busy) return;
    busy = true;
    try {
      const rtc = Number(readFileSync(path, "utf8").trim());
      const lag = Number.isFinite(rtc) ? lagBehindRtc(rtc, Date.now()) : 0;
      if (lag > 0) {
        await step(rtc);
        opts.logger.warn("clock stepped from the RTC", { behindSeconds: Math.round(lag), to: new Date(rtc * 1000).toISOString() });
      }
    } catch (err) {
      opts.logger.warn("RTC clock check failed", { error: String(err) });
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void check(), opts.intervalMs ?? 5000);
  void check();
  return () => clearInterval(timer);
}
