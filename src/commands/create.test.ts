import { describe, expect, it } from "vitest";
import { parseDuration } from "./create.ts";

describe("--timeout", () => {
  it("takes 30s, 5m, 2h, 1h30m or plain seconds", () => {
    expect(["30s", "5m", "2h", "1h30m", "90"].map((d) => parseDuration("--timeout", d))).toEqual([30, 300, 7200, 5400, 90]);
  });
  it("refuses what is not a positive duration", () => {
    for (const bad of ["", "0s", "5x", "m", "-1"]) expect(() => parseDuration("--timeout", bad)).toThrow(/duration like 30s, 5m or 2h/);
  });
});
