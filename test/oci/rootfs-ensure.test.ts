import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ShedError } from "../../src/api/errors.ts";
import type { Logger } from "../../src/log/logger.ts";
import { ensureRootfs, LayerError, looksLikeErofs, pruneRootfs, rootfsPath } from "../../src/oci/rootfs/index.ts";
import { sha256Digest } from "../../src/oci/spec/digest.ts";
import { MediaType } from "../../src/oci/spec/media-types.ts";
import { openContentStore, type OciStore } from "../../src/oci/store/index.ts";
import { missing } from "../harness/index.ts";
import { useTempDirs } from "../harness/temp-dir.ts";
import { erofsMountUnavailable, fsckErofs, withMountedErofs } from "./erofs-mount.ts";
import { gzip, type TarSpec, tar, zstd } from "./tar-builder.ts";

/**
 * ensureRootfs against the real content store: the erofs file is built once per manifest
 * digest (also when asked for concurrently), lands atomically at its cache path, and neither
 * a hostile layer nor a killed build leaves anything that looks complete.
 */
const skip = missing({ commands: ["mkfs.erofs", "fsck.erofs"] });
const tempDir = useTempDirs();

/** Puts an image made of the given layers into the store under `ref`; returns its manifest digest. */
async function putImage(store: OciStore, ref: string, layers: { bytes: Uint8Array; mediaType: string }[]): Promise<string> {
  const descs = [];
  for (const l of layers) {
    const info = await store.putBlob(l.bytes);
    descs.push({ mediaType: l.mediaType, digest: info.digest, size: info.size });
  }
  const config = new TextEncoder().encode(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: layers.map((l) => sha256Digest(l.bytes)) },
      config: {},
    }),
  );
  const cfg = await store.putBlob(config);
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size },
      layers: descs,
    }),
  );
  const m = await store.putManifest(manifest, MediaType.ociManifest);
  await store.tag(ref, m.digest);
  return m.digest;
}

function spyLogger(): Logger & { messages: string[] } {
  const messages: string[] = [];
  const log = (m: string) => {
    messages.push(m);
  };
  return { messages, debug: log, info: log, warn: log, error: log };
}

const BASE: TarSpec[] = [
  { name: "etc/", mode: 0o755 },
  { name: "etc/os-release", data: "ID=shedtest\n" },
  { name: "bin/ping", data: "ping", mode: 0o4755, xattrs: { "security.capability": new Uint8Array([1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) } },
  { name: "tmp/", mode: 0o1777 },
];
const TOP: TarSpec[] = [{ name: "etc/.wh.os-release" }, { name: "etc/hostname", data: "shed\n" }];

describe.skipIf(skip)("ensureRootfs", () => {
  it("builds the erofs root once, at <state>/rootfs/sha256-<hex>.erofs, then serves it from the cache", async () => {
    const stateDir = tempDir("shed-rootfs-state");
    const store = openContentStore(join(stateDir, "images"));
    const digest = await putImage(store, "test/rootfs:1", [
      { bytes: gzip(tar(BASE)), mediaType: MediaType.ociLayerGzip },
      { bytes: zstd(tar(TOP)), mediaType: MediaType.ociLayerZstd },
    ]);
    const events: string[] = [];
    const first = await ensureRootfs(store, "test/rootfs:1", { stateDir, progress: (e) => events.push(`${e.id} ${e.status}`) });
    expect(first.path).toBe(join(stateDir, "rootfs", `${digest.replace(":", "-")}.erofs`));
    expect(first).toMatchObject({ digest, cached: false, size: statSync(first.path).size });
    expect(looksLikeErofs(first.path)).toBe(true);
    expect(fsckErofs(first.path).ok).toBe(true);
    expect(events).toContain("rootfs ready");
    expect(readdirSync(join(stateDir, "rootfs", "tmp"))).toEqual([]);

    const again = await ensureRootfs(store, digest, { stateDir });
    expect(again).toEqual({ ...first, cached: true });

    if (!erofsMountUnavailable()) {
      await withMountedErofs(first.path, (root) => {
        expect(readFileSync(join(root, "etc/hostname"), "utf8")).toBe("shed\n");
        expect(existsSync(join(root, "etc/os-release"))).toBe(false);
        expect(statSync(join(root, "bin/ping")).mode & 0o7777).toBe(0o4755);
        expect(statSync(join(root, "tmp")).mode & 0o7777).toBe(0o1777);
      });
    }

    // An uncompressed variant is a separate cache entry.
    const plain = await ensureRootfs(store, digest, { stateDir, compression: "none" });
    expect(plain.path).toBe(rootfsPath(stateDir, digest, "none"));
    expect(plain.path).not.toBe(first.path);

    // Prune keeps what it is told to keep.
    expect(pruneRootfs(stateDir, new Set([digest]))).toEqual([]);
    expect(pruneRootfs(stateDir, new Set()).sort()).toEqual([first.path, plain.path].sort());
    expect(existsSync(first.path)).toBe(false);
  });

  it("concurrent requests for one image build it once", async () => {
    const stateDir = tempDir("shed-rootfs-state");
    const store = openContentStore(join(stateDir, "images"));
    await putImage(store, "test/rootfs:1", [{ bytes: gzip(tar(BASE)), mediaType: MediaType.dockerLayerGzip }]);
    const logger = spyLogger();
    const results = await Promise.all([1, 2, 3].map(() => ensureRootfs(store, "test/rootfs:1", { stateDir, logger })));
    expect(logger.messages.filter((m) => m === "rootfs built")).toHaveLength(1);
    expect(new Set(results.map((r) => r.path)).size).toBe(1);
  });

  it("a hostile layer is refused naming the layer and entry, and leaves no image and no temp files", async () => {
    const stateDir = tempDir("shed-rootfs-state");
    const store = openContentStore(join(stateDir, "images"));
    const evil = gzip(tar([{ name: "ok", data: "1" }, { name: "../../escape", data: "x" }]));
    const digest = await putImage(store, "test/hostile:1", [{ bytes: evil, mediaType: MediaType.ociLayerGzip }]);
    const err = await ensureRootfs(store, "test/hostile:1", { stateDir }).catch((e) => e);
    expect(err).toBeInstanceOf(LayerError);
    expect(err.code).toBe("INVALID_LAYER");
    expect(err.message).toContain(sha256Digest(evil));
    expect(err.message).toContain('"../../escape"');
    expect(existsSync(rootfsPath(stateDir, digest))).toBe(false);
    expect(readdirSync(join(stateDir, "rootfs", "tmp"))).toEqual([]);
    expect(existsSync(join(stateDir, "escape"))).toBe(false);
  });

  it("refuses unknown refs and layers that are not filesystem layers", async () => {
    const stateDir = tempDir("shed-rootfs-state");
    const store = openContentStore(join(stateDir, "images"));
    const e1 = await ensureRootfs(store, "test/none:1", { stateDir }).catch((e) => e);
    expect(e1).toBeInstanceOf(ShedError);
    expect(e1.code).toBe("IMAGE_NOT_FOUND");
    await putImage(store, "test/artifact:1", [{ bytes: new TextEncoder().encode("{}"), mediaType: "application/vnd.example.config+json" }]);
    const e2 = await ensureRootfs(store, "test/artifact:1", { stateDir }).catch((e) => e);
    expect(e2.code).toBe("UNSUPPORTED");
    expect(e2.message).toContain("not a filesystem layer");
  });

  it("a build killed half-way leaves nothing that looks complete; the next build sweeps it and succeeds", async () => {
    const stateDir = tempDir("shed-rootfs-state");
    const store = openContentStore(join(stateDir, "images"));
    // Big enough that the kill lands while the tree is being written.
    const big: TarSpec[] = Array.from({ length: 48 }, (_, i) => ({ name: `data/blob${i}`, data: randomBytes(1 << 20) }));
    const digest = await putImage(store, "test/big:1", [{ bytes: gzip(tar(big)), mediaType: MediaType.ociLayerGzip }]);
    const script = join(stateDir, "build.ts");
    writeFileSync(
      script,
      `import { ensureRootfs } from ${JSON.stringify(join(import.meta.dirname, "../../src/oci/rootfs/index.ts"))};
import { openContentStore } from ${JSON.stringify(join(import.meta.dirname, "../../src/oci/store/index.ts"))};
await ensureRootfs(openContentStore(${JSON.stringify(join(stateDir, "images"))}), "test/big:1", { stateDir: ${JSON.stringify(stateDir)}, compression: "none" });`,
    );
    const child = Bun.spawn([process.execPath, script], { stdout: "ignore", stderr: "pipe" });
    const tmp = join(stateDir, "rootfs", "tmp");
    // Uncompressed: mkfs.erofs's lz4hc crawls through incompressible data.
    const final = rootfsPath(stateDir, digest, "none");
    // Wait (bounded) for the build to be under way, then kill it without warning.
    for (let i = 0; i < 600 && !(existsSync(tmp) && readdirSync(tmp).length > 0) && child.exitCode === null; i++) await Bun.sleep(50);
    child.kill("SIGKILL");
    await child.exited;
    // Whatever state it died in: the final path is absent or a complete, valid image.
    if (existsSync(final)) expect(fsckErofs(final).ok).toBe(true);
    else expect(readdirSync(tmp).length).toBeGreaterThan(0);

    const built = await ensureRootfs(store, "test/big:1", { stateDir, compression: "none" });
    expect(built.path).toBe(final);
    expect(fsckErofs(final).ok).toBe(true);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it("stale temp dirs of dead builds are swept", async () => {
    const stateDir = tempDir("shed-rootfs-state");
    const store = openContentStore(join(stateDir, "images"));
    await putImage(store, "test/rootfs:1", [{ bytes: tar(BASE), mediaType: MediaType.ociLayer }]);
    const stale = join(stateDir, "rootfs", "tmp", "0123456789abcdef.999999.zz");
    mkdirSync(join(stale, "tree"), { recursive: true });
    await ensureRootfs(store, "test/rootfs:1", { stateDir });
    expect(existsSync(stale)).toBe(false);
  });
});
