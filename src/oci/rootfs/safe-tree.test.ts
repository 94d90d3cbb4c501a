import { describe, expect, it } from "vitest";
import { splitEntryName, UnsafeEntry } from "./safe-tree.ts";

describe("splitEntryName", () => {
  it("normalises ./ and refuses .., absolute names and NULs", () => {
    expect(splitEntryName("./etc//passwd")).toEqual(["etc", "passwd"]);
    expect(splitEntryName("./")).toEqual([]);
    expect(splitEntryName("etc/")).toEqual(["etc"]);
    for (const bad of ["../x", "a/../../x", "a/..", "/etc/passwd", "a\0b", "x".repeat(5000)]) {
      expect(() => splitEntryName(bad)).toThrow(UnsafeEntry);
    }
  });
});
