import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/harness/temp-dir.ts";
import type { Logger } from "../../log/logger.ts";
import { writeFileAtomic } from "../../fs/atomic-file.ts";
import { KeyedLock } from "./lock.ts";
import type { ShedRecord } from "./shed-record.ts";
import { ShedStore } from "./store.ts";

function record(name: string): ShedRecord {
  const now = new Date().toISOString();
  return {
    name,
    backend: "docker",
    state: "running",
    createdAt: now,
    updatedAt: now,
    spec: { name, image: "img", cpus: 1, memoryMb: 512, env: {}, mounts: [] },
    backendData: { id: "x" },
    provision: {},
  };
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (m, f) => void warnings.push(`${m} ${JSON.stringify(f)}`) };
}

const tempDir = useTempDirs();

describe("state store", () => {
  it("round-trips records and leaves no temp files", () => {
    const dir = tempDir("store");
    const store = new ShedStore(dir, recordingLogger());
    store.put(record("a"));
    store.put({ ...record("b"), state: "stopped" });
    expect(store.lookup("a")).toMatchObject({ record: { backendData: { id: "x" } } });
    expect(store.list().records.map((r) => r.name)).toEqual(["a", "b"]);
    expect(readdirSync(join(dir, "sheds")).sort()).toEqual(["a.json", "b.json"]);
    store.remove("a");
    store.remove("a");
    expect(store.lookup("a")).toBeUndefined();
  });

  it("refuses a name that is not a shed name before it becomes a path (defence in depth)", () => {
    const store = new ShedStore(tempDir("store"), recordingLogger());
    for (const bad of ["../x", "..", "a/b", "", "A", "x\0", "a".repeat(64)]) {
      expect(() => store.lookup(bad), bad).toThrow(/invalid shed name/);
      expect(() => store.remove(bad), bad).toThrow(/invalid shed name/);
      expect(() => store.put(record(bad)), bad).toThrow(/invalid shed name/);
    }
  });

  it("reports and skips corrupt or half-written files instead of failing", () => {
    const dir = tempDir("store");
    const logger = recordingLogger();
    const store = new ShedStore(dir, logger);
    store.put(record("good"));
    writeFileSync(join(dir, "sheds", "torn.json"), '{"name":"torn","backend":"doc');
    writeFileSync(join(dir, "sheds", "wrong.json"), JSON.stringify({ name: "wrong", state: "flying" }));
    const { records, problems } = store.list();
    expect(records.map((r) => r.name)).toEqual(["good"]);
    expect(problems.map((p) => p.file.split("/").pop()).sort()).toEqual(["torn.json", "wrong.json"]);
    expect(problems.find((p) => p.file.endsWith("wrong.json"))?.reason).toContain("state");
    expect(logger.warnings.length).toBe(2);
    expect(problems.map((p) => p.name).sort()).toEqual(["torn", "wrong"]);
    expect(store.lookup("torn")).toMatchObject({ problem: { name: "torn" } });
  });

  it("loads a state file of the shape before the record held its spec, and writes the current shape", () => {
    const dir = tempDir("store");
    const store = new ShedStore(dir, recordingLogger());
    const now = new Date().toISOString();
    const old = {
      name: "old",
      backend: "docker",
      image: "img:1",
      state: "stopped",
      cpus: 1.5,
      memoryMb: 768,
      createdAt: now,
      updatedAt: now,
      env: { A: "1" },
      pidsLimit: 4096,
      limits: { cpus: 1.5, memoryMb: 768, pids: 4096 },
      backendData: { containerId: "c" },
      mounts: [{ source: "/src", target: "/workspace", readonly: false }],
      provision: { repo: "x" },
    };
    writeFileSync(join(dir, "sheds", "old.json"), JSON.stringify(old));
    const found = store.lookup("old");
    expect(found && "record" in found ? found.record : found).toEqual({
      name: "old",
      backend: "docker",
      state: "stopped",
      createdAt: now,
      updatedAt: now,
      spec: { name: "old", image: "img:1", cpus: 1.5, memoryMb: 768, env: { A: "1" }, pidsLimit: 4096, mounts: old.mounts },
      backendData: { containerId: "c" },
      provision: { repo: "x" },
    });
    if (found && "record" in found) store.put(found.record);
    expect(JSON.parse(readFileSync(join(dir, "sheds", "old.json"), "utf8")).spec.image).toBe("img:1");
    // The oldest shape, without env and mounts (what a hand-written or early file has).
    writeFileSync(join(dir, "sheds", "bare.json"), JSON.stringify({ name: "bare", backend: "docker", image: "x", state: "stopped", cpus: 1, memoryMb: 64, createdAt: now, updatedAt: now }));
    expect(store.lookup("bare")).toMatchObject({ record: { spec: { name: "bare", image: "x", env: {}, mounts: [] } } });
  });

  it("writes atomically: the old content survives a failed write", () => {
    const dir = tempDir("atomic");
    const path = join(dir, "f.json");
    writeFileAtomic(path, "old");
    expect(() => writeFileAtomic(join(dir, "missing-dir", "f"), "x")).toThrow();
    writeFileAtomic(path, "new");
    expect(readFileSync(path, "utf8")).toBe("new");
    expect(readdirSync(dir)).toEqual(["f.json"]);
  });
});

describe("keyed lock", () => {
  it("serializes one key and lets others run", async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    const slow = lock.run("a", async () => {
      await Bun.sleep(30);
      order.push("a1");
    });
    const other = lock.run("b", async () => void order.push("b"));
    const next = lock.run("a", async () => void order.push("a2"));
    await Promise.all([slow, other, next]);
    expect(order).toEqual(["b", "a1", "a2"]);
    expect(lock.busy("a")).toBe(false);
  });

  it("releases the key when the holder throws", async () => {
    const lock = new KeyedLock();
    await expect(lock.run("k", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await lock.run("k", async () => 7)).toBe(7);
  });
});
