import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "shed-watch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Reads stdout lines of the watcher until `want` has been seen (or the stream ends). */
async function until(reader: { read(): Promise<{ value?: Uint8Array; done?: boolean }> }, want: string, seen: string[]): Promise<void> {
  const dec = new TextDecoder();
  let buf = "";
  while (!seen.includes(want)) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += dec.decode(value, { stream: true });
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    seen.push(...lines);
  }
}

describe("shed-agent watch (the guest side of the file sync)", () => {
  it("prints ready, then a file's index when it is written in place or replaced by a rename; ends with its stdin", async () => {
    const a = join(dir, "a.json");
    const b = join(dir, "b.json");
    writeFileSync(a, "1");
    writeFileSync(b, "1");
    const proc = Bun.spawn([process.execPath, join(import.meta.dirname, "../bin/shed-agent.ts"), "watch", a, b], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    const reader = (proc.stdout as unknown as ReadableStream<Uint8Array>).getReader();
    const seen: string[] = [];
    await until(reader, "ready", seen);
    expect(seen).toEqual(["ready"]);
    writeFileSync(join(dir, "unrelated"), "x");
    writeFileSync(b, "2");
    await until(reader, "1", seen);
    writeFileSync(`${a}.tmp`, "2");
    renameSync(`${a}.tmp`, a);
    await until(reader, "0", seen);
    expect(new Set(seen)).toEqual(new Set(["ready", "1", "0"]));
    proc.stdin.end();
    expect(await proc.exited).toBe(0);
  }, 30_000);

  it("a missing directory or no file is refused", async () => {
    const none = Bun.spawnSync([process.execPath, join(import.meta.dirname, "../bin/shed-agent.ts"), "watch"], { stderr: "pipe" });
    expect(none.exitCode).toBe(2);
    const missing = Bun.spawnSync([process.execPath, join(import.meta.dirname, "../bin/shed-agent.ts"), "watch", join(dir, "no/such/file")], { stderr: "pipe" });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr.toString()).toContain("does not exist");
  });
});
