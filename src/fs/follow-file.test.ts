import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../test/harness/temp-dir.ts";
import { followFile } from "./follow-file.ts";

const tempDir = useTempDirs();

describe("followFile", () => {
  it("streams what is appended from now on, starts over when the file is started over, and stops on cancel", async () => {
    const path = join(tempDir("follow"), "console.log");
    writeFileSync(path, "old line\n");
    const reader = followFile(path, { pollMs: 10, map: (t) => t.toUpperCase() }).getReader();
    const dec = new TextDecoder();
    appendFileSync(path, "new one\n");
    expect(dec.decode((await reader.read()).value)).toBe("NEW ONE\n");
    writeFileSync(path, "fresh\n");
    expect(dec.decode((await reader.read()).value)).toBe("FRESH\n");
    await reader.cancel();
    appendFileSync(path, "after\n");
    expect((await reader.read()).done).toBe(true);
  });

  it("starts with the last lines asked for, then follows", async () => {
    const path = join(tempDir("follow"), "console.log");
    writeFileSync(path, "one\ntwo\nthree\n");
    const reader = followFile(path, { lines: 2, pollMs: 10 }).getReader();
    const dec = new TextDecoder();
    expect(dec.decode((await reader.read()).value)).toBe("two\nthree\n");
    appendFileSync(path, "four");
    expect(dec.decode((await reader.read()).value)).toBe("four");
    await reader.cancel();
    const all = followFile(path, { lines: 10, pollMs: 10 }).getReader();
    expect(dec.decode((await all.read()).value)).toBe("one\ntwo\nthree\nfour");
    await all.cancel();
  });
});
