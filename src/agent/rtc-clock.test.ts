import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { silentLogger } from "../log/logger.ts";
import { lagBehindRtc, watchRtcClock } from "./rtc-clock.ts";
import { parseAgentArgs } from "./main.ts";

describe("rtc-clock", () => {
  const dir = mkdtempSync(join(tmpdir(), "shed-rtc-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("steps only a clock behind the RTC by more than its whole-second rounding", () => {
    const now = 1_800_000_000_500;
    expect(lagBehindRtc(1_800_000_000, now)).toBe(0);
    expect(lagBehindRtc(1_800_000_002, now)).toBe(0);
    expect(lagBehindRtc(1_800_003_600, now)).toBeCloseTo(3599.5);
    expect(lagBehindRtc(1_799_996_400, now)).toBe(0); // ahead: left alone
  });

  it("reads the RTC file and steps to its reading", async () => {
    const rtc = join(dir, "since_epoch");
    const ahead = Math.floor(Date.now() / 1000) + 3600;
    writeFileSync(rtc, `${ahead}\n`);
    const steps: number[] = [];
    let resolve = () => {};
    const stepped = new Promise<void>((r) => (resolve = r));
    const stop = watchRtcClock({
      logger: silentLogger,
      rtcPath: rtc,
      intervalMs: 10,
      step: async (s) => {
        steps.push(s);
        resolve();
      },
    });
    await stepped;
    stop();
    expect(steps[0]).toBe(ahead);
  });

  it("without an RTC does nothing", () => {
    const stop = watchRtcClock({ logger: silentLogger, rtcPath: join(dir, "none"), step: () => Promise.reject(new Error("must not step")) });
    stop();
  });

  it("is asked for with --rtc-clock (VM guests only)", () => {
    expect(parseAgentArgs(["--listen", "stdio"]).rtcClock).toBe(false);
    expect(parseAgentArgs(["--listen", "stdio", "--rtc-clock"]).rtcClock).toBe(true);
  });
});
