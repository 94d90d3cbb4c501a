import { describe, expect, it } from "vitest";
import { formatBytes, formatProgress } from "./output.ts";

describe("progress lines", () => {
  it("draw a bar when the total is known", () => {
    const line = formatProgress({ id: "sha256:abcd", status: "downloading", current: 50e6, total: 100e6 });
    expect(line).toContain("[############------------]");
    expect(line).toContain("50MB/100MB");
  });
  it("are plain text otherwise", () => {
    expect(formatProgress({ id: "agent", status: "ready" }).trim()).toBe("agent          ready");
  });
  it("format sizes like docker", () => {
    expect(formatBytes(999)).toBe("999B");
    expect(formatBytes(1500)).toBe("1.5KB");
    expect(formatBytes(432_100_000)).toBe("432MB");
  });
});
