import { describe, expect, it } from "vitest";
import { parseSize, parseUpperSize, UPPER_SIZE_MAX, UPPER_SIZE_MIN } from "./upper-disk.ts";

describe("upper disk sizes", () => {
  it("parses 5G, 512M, 1.5g, 20GiB and byte counts", () => {
    expect(parseSize("5G")).toBe(5 * 1024 ** 3);
    expect(parseSize("512M")).toBe(512 * 1024 ** 2);
    expect(parseSize("1.5g")).toBe(1.5 * 1024 ** 3);
    expect(parseSize("20GiB")).toBe(20 * 1024 ** 3);
    expect(parseSize(" 64k ")).toBe(65536);
    expect(parseSize(4096)).toBe(4096);
  });

  it("defaults to 5G and allows 1G-100G", () => {
    expect(parseUpperSize(undefined)).toBe(5 * 1024 ** 3);
    expect(parseUpperSize("1G")).toBe(UPPER_SIZE_MIN);
    expect(parseUpperSize("100G")).toBe(UPPER_SIZE_MAX);
    expect(parseUpperSize("1024M")).toBe(UPPER_SIZE_MIN);
  });

  it("refuses what is not a size, or out of range, saying what is allowed", () => {
    for (const bad of ["", "5X", "G", "-1G", "5 G B"]) expect(() => parseUpperSize(bad)).toThrow(/not a size/);
    for (const bad of ["512M", "101G", "1T", "0"]) expect(() => parseUpperSize(bad)).toThrow(/between 1G and 100G/);
    try {
      parseUpperSize("200G");
    } catch (err) {
      expect((err as { code: string }).code).toBe("INVALID_REQUEST");
    }
  });
});
