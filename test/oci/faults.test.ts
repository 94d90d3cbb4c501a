import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadArchive } from "../../src/oci/archive/load.ts";
import { pruneStore } from "../../src/oci/image-ops/prune.ts";
import { pullImage } from "../../src/oci/image-ops/pull.ts";
import { RegistryClient } from "../../src/oci/registry/client.ts";
import { dockerConfigCredentials } from "../../src/oci/registry/credentials.ts";
import { downloadBlob } from "../../src/oci/registry/download.ts";
import { openContentStore } from "../../src/oci/store/layout.ts";
import { missing, sh } from "../harness/host.ts";
import { busyboxRootfsTar } from "../harness/images.ts";
import { startLyingRegistry } from "./lib/fake-registry.ts";
import { makeLayoutImage, randomLayerTar, skopeoCopy, skopeoDigest } from "./lib/images.ts";
import { startRegistry, type TestRegistry } from "./lib/registry.ts";
import { tarOfDir } from "./lib/tar.ts";

const skip = missing({ commands: ["docker-registry", "skopeo"] });

describe.skipIf(skip)("registry faults", () => {
  let work: string;
  const anonymous = new RegistryClient({ credentials: () => undefined });

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "shed-oci-faults-"));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  describe("basic auth (htpasswd)", () => {
    let reg: TestRegistry;
    beforeAll(async () => {
      reg = await startRegistry(join(work, "auth-registry"), { auth: { user: "alice", password: "s3cret-pass" } });
      const layout = join(work, "auth-layout");
      makeLayoutImage(layout, { tag: "a", layers: [busyboxRootfsTar()], gzip: true });
      await skopeoCopy(`oci:${layout}:a`, `docker://${reg.host}/private/bb:1`, ["--dest-creds", "alice:s3cret-pass"]);
    });
    afterAll(() => reg?.stop());

    it("without credentials: REGISTRY_UNAUTHORIZED saying how to log in; nothing stored", async () => {
      const store = openContentStore(join(work, "auth-store-anon"));
      const err = await pullImage(anonymous, store, `${reg.host}/private/bb:1`).catch((e) => e);
      expect(err.code).toBe("REGISTRY_UNAUTHORIZED");
      expect(err.message).toContain(`docker login ${reg.host}`);
      expect(err.message).toContain("~/.docker/config.json");
      expect(store.list()).toEqual([]);
    });

    it("with ~/.docker/config.json credentials: pulls; with a wrong password: a clear refusal", async () => {
      const cfgDir = join(work, "docker-config");
      mkdirSync(cfgDir, { recursive: true });
      const write = (pw: string) =>
        writeFileSync(
          join(cfgDir, "config.json"),
          JSON.stringify({ auths: { [`http://${reg.host}`]: { auth: Buffer.from(`alice:${pw}`).toString("base64") } } }),
        );
      write("s3cret-pass");
      const client = new RegistryClient({ credentials: dockerConfigCredentials(join(cfgDir, "config.json")) });
      const store = openContentStore(join(work, "auth-store"));
      const r = await pullImage(client, store, `${reg.host}/private/bb:1`);
      expect(r.digest).toBe(await skopeoDigest(`docker://${reg.host}/private/bb:1`, ["--creds", "alice:s3cret-pass"]));

      write("wrong");
      const fresh = new RegistryClient({ credentials: dockerConfigCredentials(join(cfgDir, "config.json")) });
      const err = await pullImage(fresh, store, `${reg.host}/private/bb:1`).catch((e) => e);
      expect(err.code).toBe("REGISTRY_UNAUTHORIZED");
      expect(err.message).toContain("refused the credentials");
    });
  });

  it("a blob whose bytes do not match its digest is refused and nothing is kept", async () => {
    const fake = startLyingRegistry();
    try {
      const store = openContentStore(join(work, "lying-store"));
      const err = await pullImage(anonymous, store, `${fake.host}/evil/image:latest`).catch((e) => e);
      expect(err.code).toBe("DIGEST_MISMATCH");
      expect(err.message).toContain("not kept");
      expect(store.list()).toEqual([]);
      const blobs = store.allBlobs().map((b) => b.digest);
      // Only the (correct) config may have been kept; the lying layer is not.
      expect(blobs.length).toBeLessThanOrEqual(1);
      expect(readdirSync(store.tmpDir)).toEqual([]);
    } finally {
      fake.stop();
    }
  });

  describe("registry stopped mid-pull", () => {
    let reg: TestRegistry;
    const ref = () => `${reg.host}/big/image:1`;
    beforeAll(async () => {
      reg = await startRegistry(join(work, "stop-registry"));
      const layout = join(work, "stop-layout");
      makeLayoutImage(layout, { tag: "b", layers: [busyboxRootfsTar(), randomLayerTar(work, "huge", 160 << 20, 2)] });
      await skopeoCopy(`oci:${layout}:b`, `docker://${ref()}`);
    });
    afterAll(() => reg?.stop());

    /** Kills the registry once a download has written `bytes` (watching the partial file). */
    function stopWhenPartial(storeTmp: string, bytes: number): Promise<void> {
      return new Promise((resolve) => {
        const timer = setInterval(() => {
          for (const f of readdirSync(storeTmp)) {
            if (f.endsWith(".partial") && Bun.file(join(storeTmp, f)).size > bytes) {
              clearInterval(timer);
              void reg.stop().then(resolve);
              return;
            }
          }
        }, 1);
      });
    }

    it("a registry back within the retry window: the same pull resumes with Range and completes", async () => {
      const store = openContentStore(join(work, "stop-store-1"));
      const statuses = new Set<string>();
      const stopped = stopWhenPartial(store.tmpDir, 8 << 20).then(async () => {
        await Bun.sleep(300);
        await reg.start();
      });
      const r = await pullImage(anonymous, store, ref(), { progress: (e) => statuses.add(e.status) });
      await stopped;
      expect(statuses.has("resuming")).toBe(true);
      expect(r.digest).toBe(await skopeoDigest(`docker://${ref()}`));
      expect((await pruneStore(store, { keep: new Set(), dryRun: true })).broken).toEqual([]);
    });

    it("a registry that stays away: a clean error, a consistent store, and the next pull continues", async () => {
      const store = openContentStore(join(work, "stop-store-2"));
      const stopped = stopWhenPartial(store.tmpDir, 8 << 20);
      const err = await pullImage(anonymous, store, ref(), { concurrency: 1 }).catch((e) => e);
      await stopped;
      expect(err.code).toBe("REGISTRY_ERROR");
      expect(err.message).toMatch(/next pull continues/);
      // No ref points at the incomplete image; prune finds nothing broken.
      expect(store.list()).toEqual([]);
      expect((await pruneStore(store, { keep: new Set(), dryRun: true })).broken).toEqual([]);
      const partial = readdirSync(store.tmpDir).filter((f) => f.endsWith(".partial"));
      expect(partial.length).toBe(1);

      await reg.start();
      const statuses = new Set<string>();
      const r = await pullImage(anonymous, store, ref(), { progress: (e) => statuses.add(e.status) });
      expect(statuses.has("resuming")).toBe(true);
      expect(r.digest).toBe(await skopeoDigest(`docker://${ref()}`));
      expect(readdirSync(store.tmpDir)).toEqual([]);
    });
  });

  // The state dir on a 16 MiB tmpfs: mounting one needs root.
  const noTmpfs = process.getuid?.() === 0 ? undefined : "skipped: the disk-full tests mount a tmpfs, which needs root";
  if (noTmpfs) console.warn(noTmpfs);

  describe.skipIf(noTmpfs)("disk full (a small tmpfs as the state dir)", () => {
    let mnt: string;
    let mounted = false;
    let reg: TestRegistry;
    beforeAll(async () => {
      mnt = join(work, "tmpfs");
      mkdirSync(mnt, { recursive: true });
      const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt], { stderr: "pipe" });
      if (mount.exitCode !== 0) throw new Error(`mounting a tmpfs at ${mnt} failed: ${mount.stderr.toString()}`);
      mounted = true;
      reg = await startRegistry(join(work, "full-registry"));
      const layout = join(work, "full-layout");
      makeLayoutImage(layout, { tag: "f", layers: [randomLayerTar(work, "fill", 24 << 20, 2)] });
      await skopeoCopy(`oci:${layout}:f`, `docker://${reg.host}/full/image:1`);
    });
    afterAll(async () => {
      await reg?.stop();
      if (mounted) sh(`umount '${mnt}'`, { allowFail: true });
    });

    it("a pull that cannot fit is refused before it starts", async () => {
      const store = openContentStore(join(mnt, "pull-precheck"));
      const err = await pullImage(anonymous, store, `${reg.host}/full/image:1`).catch((e) => e);
      expect(err.code).toBe("STORAGE_FULL");
      expect(store.allBlobs()).toEqual([]);
      expect(readdirSync(store.tmpDir)).toEqual([]);
      rmSync(store.root, { recursive: true });
    });

    it("running out of space mid-download: STORAGE_FULL, no partial blob left", async () => {
      const store = openContentStore(join(mnt, "mid-download"));
      const { fetchManifest } = await import("../../src/oci/registry/manifests.ts");
      const m = await fetchManifest(anonymous, { registry: reg.host, path: "full/image" }, "1", "test");
      if (m.parsed.kind !== "manifest") throw new Error("expected a manifest");
      const layer = m.parsed.manifest.layers[0]!;
      const err = await downloadBlob(anonymous, store, { registry: reg.host, path: "full/image" }, layer).catch((e) => e);
      expect(err.code).toBe("STORAGE_FULL");
      expect(err.message).toContain("shed image prune");
      expect(store.hasBlob(layer.digest as any)).toBe(false);
      expect(readdirSync(store.tmpDir)).toEqual([]);
      rmSync(store.root, { recursive: true });
    });

    it("running out of space mid-load: STORAGE_FULL, nothing partial", async () => {
      const store = openContentStore(join(mnt, "mid-load"));
      const layout = join(work, "full-layout");
      const err = await loadArchive(store, tarOfDir(layout), { tag: "x/y:1" }).catch((e) => e);
      expect(err.code).toBe("STORAGE_FULL");
      expect(store.list()).toEqual([]);
      expect(readdirSync(store.tmpDir)).toEqual([]);
      expect(existsSync(store.root)).toBe(true);
    });
  });
});
