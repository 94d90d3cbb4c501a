import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { appendBootMarker, bootFailure, readConsole } from "./console-log.ts";

const dir = mkdtempSync(join(tmpdir(), "shed-console-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("console log", () => {
  it("reports shed-init's FATAL line of the last boot", () => {
    const path = join(dir, "fatal.log");
    appendBootMarker(path, "accel tcg");
    appendFileSync(path, "shed-init: FATAL: an old failure\n");
    appendBootMarker(path, "accel tcg");
    appendFileSync(path, "[    2.1] virtio_blk virtio0: [vda]\nshed-init: FATAL: cannot mount the writable upper /dev/vda as ext4\n");
    expect(bootFailure(path)).toBe("shed-init: FATAL: cannot mount the writable upper /dev/vda as ext4");
  });

  it("falls back to a kernel panic, then to the last lines", () => {
    const panic = join(dir, "panic.log");
    appendBootMarker(panic, "x");
    appendFileSync(panic, "Kernel panic - not syncing: VFS: Unable to mount root fs\n");
    expect(bootFailure(panic)).toMatch(/^Kernel panic - not syncing/);
    const other = join(dir, "other.log");
    appendBootMarker(other, "x");
    appendFileSync(other, "a\nb\n\x1b[0;32m  OK  \x1b[0m c\n");
    expect(bootFailure(other)).toBe("last console lines: a | b | OK   c");
    expect(bootFailure(join(dir, "missing.log"))).toBe("no console output");
  });

  it("strips terminal escapes and keeps the file bounded across boots", () => {
    const path = join(dir, "big.log");
    writeFileSync(path, "x".repeat(5 * 1024 * 1024));
    appendBootMarker(path, "y");
    expect(statSync(path).size).toBeLessThan(1.2 * 1024 * 1024);
    expect(readConsole(path, 200)).toContain("=== shed: boot");
  });
});
