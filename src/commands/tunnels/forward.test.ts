import { describe, expect, it } from "vitest";
import { parsePortSpec } from "./forward.ts";

describe("tunnel port specs", () => {
  it("takes PORT and LOCAL:REMOTE", () => {
    expect(parsePortSpec("8080")).toEqual({ local: 8080, remote: 8080 });
    expect(parsePortSpec("8080:80")).toEqual({ local: 8080, remote: 80 });
  });
  it("refuses anything else with a usage error", () => {
    for (const bad of ["", "http", "0", "70000", "80:", ":80", "1:2:3", "-1"]) {
      expect(() => parsePortSpec(bad), bad).toThrow(/LOCAL:REMOTE/);
    }
  });
});
