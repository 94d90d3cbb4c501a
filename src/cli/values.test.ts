import { describe, expect, it } from "vitest";
import { parseDuration, parseEnvPairs, parseMemoryMb, portArg } from "./values.ts";

describe("flag values", () => {
  it("durations: 30s, 5m, 2h, 1h30m or plain seconds", () => {
    expect(["30s", "5m", "2h", "1h30m", "90"].map((d) => parseDuration("--timeout", d))).toEqual([30, 300, 7200, 5400, 90]);
  });
  it("refuse what is not a positive duration", () => {
    for (const bad of ["", "0s", "5x", "m", "-1", "abc"]) expect(() => parseDuration("--timeout", bad)).toThrow(/duration like 30s, 5m or 2h/);
  });
  it("memory: 8G, 8192M and 8192 are the same", () => {
    expect(["8G", "8192M", "8192", "8g", "8GiB", "8192MB"].map((m) => parseMemoryMb("--memory", m))).toEqual(Array(6).fill(8192));
    for (const bad of ["lots", "8X", "-1", "0"]) expect(() => parseMemoryMb("--memory", bad)).toThrow(/--memory takes/);
  });
  it("env pairs keep every value, later ones winning", () => {
    expect(parseEnvPairs("-e", ["A=1", "B=2", "A=3", "C="])).toEqual({ A: "3", B: "2", C: "" });
    expect(() => parseEnvPairs("-e", ["NOEQ"])).toThrow('-e takes KEY=VALUE, got "NOEQ"');
  });
  it("ports are 1-65535", () => {
    expect(portArg("--http-port", "8080")).toBe(8080);
    expect(() => portArg("--http-port", "99999")).toThrow("--http-port takes a whole number of at most 65535");
  });
});
