import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/harness/temp-dir.ts";
import type { Backend } from "../../backends/backend.ts";
import { ServerConfigSchema } from "../config/schema.ts";
import { spawnSource } from "../sheds/spawn-source.ts";
import { type SnapshotRecord, SnapshotStore } from "./store.ts";

const tempDir = useTempDirs();

const record = (over: Partial<SnapshotRecord> = {}): SnapshotRecord => ({
  version: 1,
  name: "base-v1",
  backend: "qemu",
  serverId: "s",
  sourceShed: "base",
  createdAt: new Date().toISOString(),
  image: "base",
  spawnImage: "sha256:abc",
  pinnedDigest: "sha256:abc",
  sizeBytes: 1,
  localDir: false,
  spec: { cpus: 3, memoryMb: 2048, env: { A: "1" }, upperSizeBytes: 2 * 1024 ** 3 },
  data: {},
  ...over,
});

describe("SnapshotStore", () => {
  it("a directory is a snapshot only with its metadata; without it an orphan; with unreadable metadata neither (and said why)", () => {
    const root = tempDir("snapstore");
    const store = new SnapshotStore(new Map([["qemu", root]]));
    const good = store.dir("qemu", "base-v1");
    mkdirSync(good);
    store.commit(good, record());
    mkdirSync(join(root, "half-made"));
    mkdirSync(join(root, "broken"));
    writeFileSync(join(root, "broken", "snapshot.json"), "{ nope");
    const { records, problems } = store.scan();
    expect(records.map((r) => r.name)).toEqual(["base-v1"]);
    expect(problems.find((p) => p.name === "half-made")?.unreadable).toBeUndefined();
    expect(problems.find((p) => p.name === "broken")?.unreadable).toContain(join(root, "broken", "snapshot.json"));
    expect(store.get("base-v1").record.spec.cpus).toBe(3);
    expect(() => store.get("half-made")).toThrow(/not found/);
    expect(() => store.get("broken")).toThrow(/cannot be read/);
    expect(() => store.dir("qemu", "../x")).toThrow(/invalid snapshot name/);
    expect(store.taken("half-made")).toBe(join(root, "half-made"));
  });
});

describe("spawnSource (seed 003's constraints)", () => {
  const config = v.parse(ServerConfigSchema, { state_dir: "/nonexistent" });
  const backend = (snapshots: boolean) =>
    ({ name: "qemu", features: { snapshots }, snapshots: snapshots ? {} : undefined, specDefaults: {} }) as unknown as Backend;
  const snap = { record: record(), dir: "/snapshots/base-v1" };

  it("the spec starts from the source's, the request's over it, on the pinned image and the snapshot's disk", () => {
    const s = spawnSource(config, { name: "exp", memoryMb: 4096, env: { B: "2" } }, snap, () => backend(true));
    expect(s.spec).toMatchObject({ name: "exp", image: "sha256:abc", cpus: 3, memoryMb: 4096, env: { A: "1", B: "2" }, upperSizeBytes: 2 * 1024 ** 3 });
    expect(s.handle).toEqual({ name: "base-v1", dir: "/snapshots/base-v1", data: {} });
    expect(s.warnings).toEqual([]);
  });

  it("refuses an image, a repo, another backend, --upper-size; a backend without snapshots is UNSUPPORTED", () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return `${(err as { code: string }).code}: ${(err as Error).message}`;
      }
      return "accepted";
    };
    expect(code(() => spawnSource(config, { name: "x", image: "base" }, snap, () => backend(true)))).toMatch(/^INVALID_REQUEST: .*image/);
    expect(code(() => spawnSource(config, { name: "x", repo: "o/r" }, snap, () => backend(true)))).toMatch(/^INVALID_REQUEST: .*repo/);
    expect(code(() => spawnSource(config, { name: "x", backend: "docker" }, snap, () => backend(true)))).toMatch(/^INVALID_REQUEST: .*qemu.*docker/);
    expect(code(() => spawnSource(config, { name: "x", upperSize: "9G" }, snap, () => backend(true)))).toMatch(/^INVALID_REQUEST: .*--upper-size/);
    expect(code(() => spawnSource(config, { name: "x" }, snap, () => backend(false)))).toMatch(/^UNSUPPORTED: /);
  });

  it("warns when the source had a host directory at /workspace", () => {
    const s = spawnSource(config, { name: "x" }, { ...snap, record: record({ localDir: true }) }, () => backend(true));
    expect(s.warnings[0]).toMatch(/--local-dir.*not in the snapshot/);
  });
});
