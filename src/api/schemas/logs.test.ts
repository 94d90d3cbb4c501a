import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { SinceSchema } from "./logs.ts";

describe("SinceSchema (logs --since)", () => {
  it("takes a duration back from now or a time", () => {
    const before = Date.now();
    const tenMin = v.parse(SinceSchema, "10m").getTime();
    expect(before - tenMin).toBeGreaterThanOrEqual(600_000 - 50);
    expect(before - tenMin).toBeLessThan(600_000 + 5_000);
    expect(before - v.parse(SinceSchema, "1h30m").getTime()).toBeGreaterThanOrEqual(5_400_000 - 50);
    expect(v.parse(SinceSchema, "2026-12-01T10:00:00Z").toISOString()).toBe("2026-12-01T10:00:00.000Z");
    expect(v.parse(SinceSchema, "2026-12-01").toISOString()).toBe("2026-12-01T00:00:00.000Z");
  });

  it("refuses anything else, saying what it takes", () => {
    for (const bad of ["yesterday", "10", "-5m", "2026-13-45T99:99", "1h ago"]) {
      const r = v.safeParse(SinceSchema, bad);
      expect(r.success, bad).toBe(false);
      if (!r.success) expect(r.issues[0]!.message).toMatch(/duration such as 10m/);
    }
  });
});
