import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busyboxRootfsTar } from "../harness/images.ts";
import { missing } from "../harness/host.ts";
import { saveOciArchive } from "../../src/oci/archive/save.ts";
import { loadArchive } from "../../src/oci/archive/load.ts";
import { pullImage } from "../../src/oci/image-ops/pull.ts";
import { pushImage } from "../../src/oci/image-ops/push.ts";
import { pruneStore } from "../../src/oci/image-ops/prune.ts";
import { RegistryClient } from "../../src/oci/registry/client.ts";
import { openContentStore } from "../../src/oci/store/layout.ts";
import { makeLayoutImage, makeLayoutIndex, randomLayerTar, skopeoCopy, skopeoDigest } from "./lib/images.ts";
import { startRegistry, type TestRegistry } from "./lib/registry.ts";

const skip = missing({ commands: ["docker-registry", "skopeo"] });

describe.skipIf(skip)("pull and push against a real registry (docker-registry), checked with skopeo", () => {
  let work: string;
  let reg: TestRegistry;
  let client: RegistryClient;
  let amd64: string;
  let arm64: string;
  let indexDigest: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "shed-oci-pp-"));
    reg = await startRegistry(join(work, "registry"));
    client = new RegistryClient({ credentials: () => undefined });
    const layout = join(work, "layout");
    const busybox = busyboxRootfsTar();
    const extra = randomLayerTar(work, "extra", 3 << 20);
    makeLayoutImage(layout, { tag: "plain", layers: [busybox, extra], gzip: true, history: ["busybox", "random"] });
    await skopeoCopy(`oci:${layout}:plain`, `docker://${reg.host}/test/busybox:1`);
    amd64 = makeLayoutImage(layout, { tag: "amd", layers: [busybox], gzip: true, arch: "amd64" }).manifestDigest;
    arm64 = makeLayoutImage(layout, { tag: "arm", layers: [extra], gzip: true, arch: "arm64" }).manifestDigest;
    indexDigest = makeLayoutIndex(layout, "multi", [
      { digest: amd64, arch: "amd64" },
      { digest: arm64, arch: "arm64", variant: "v8" },
    ]);
    await skopeoCopy(`oci:${layout}:multi`, `docker://${reg.host}/test/multi:1`, ["--all"]);
  });

  afterAll(async () => {
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("pulls an image: the digest equals skopeo's, every blob is in the store", async () => {
    const store = openContentStore(join(work, "store1"));
    const events: string[] = [];
    const result = await pullImage(client, store, `${reg.host}/test/busybox:1`, { progress: (e) => events.push(`${e.id} ${e.status}`) });
    expect(result.digest).toBe(await skopeoDigest(`docker://${reg.host}/test/busybox:1`));
    expect(result.layers).toBe(2);
    expect(result.downloaded).toBeGreaterThan(3 << 20);
    const image = await store.resolve(`${reg.host}/test/busybox:1`);
    expect(image.manifestDigest).toBe(result.digest);
    for (const l of image.layers) expect(store.hasBlob(l.digest as any)).toBe(true);
    expect(events.some((e) => e.endsWith(" done"))).toBe(true);
    // What we stored is a valid OCI layout: skopeo reads it and sees the same digest.
    expect(await skopeoDigest(`oci:${store.root}:${reg.host}/test/busybox:1`)).toBe(result.digest);

    const again = await pullImage(client, store, `${reg.host}/test/busybox:1`);
    expect(again.downloaded).toBe(0);
    expect(again.digest).toBe(result.digest);
  });

  it("resolves an image index to the server's platform, or to --platform", async () => {
    const store = openContentStore(join(work, "store2"));
    expect(await skopeoDigest(`docker://${reg.host}/test/multi:1`)).toBe(indexDigest);
    const host = await pullImage(client, store, `${reg.host}/test/multi:1`);
    expect(host.indexDigest).toBe(indexDigest);
    expect(host.digest).toBe(process.arch === "arm64" ? arm64 : amd64);
    const arm = await pullImage(client, store, `${reg.host}/test/multi:1`, { platform: { os: "linux", architecture: "arm64" } });
    expect(arm.digest).toBe(arm64);
    expect(arm.platform).toBe("linux/arm64/v8");
    await expect(
      pullImage(client, store, `${reg.host}/test/multi:1`, { platform: { os: "linux", architecture: "s390x" } }),
    ).rejects.toMatchObject({ code: "IMAGE_NOT_FOUND", message: expect.stringContaining("linux/amd64") });
  });

  it("pulls by digest", async () => {
    const store = openContentStore(join(work, "store3"));
    const r = await pullImage(client, store, `${reg.host}/test/multi@${arm64}`);
    expect(r.digest).toBe(arm64);
    expect((await store.resolve(`${reg.host}/test/multi@${arm64}`)).manifestDigest).toBe(arm64);
  });

  it("pushes byte-perfect (mounting from the source repo), and skopeo reads the same digest back", async () => {
    const store = openContentStore(join(work, "store1"));
    const src = `${reg.host}/test/busybox:1`;
    const pushed = await pushImage(client, store, src, `${reg.host}/other/copy:v2`);
    expect(pushed.mounted).toBe(3);
    expect(await skopeoDigest(`docker://${reg.host}/other/copy:v2`)).toBe(pushed.digest);
    expect(pushed.digest).toBe((await store.resolve(src)).manifestDigest);
    // Again: everything is there now.
    const again = await pushImage(client, store, src, `${reg.host}/other/copy:v3`);
    expect(again.existing).toBe(3);
  });

  it("uploads chunked and monolithic when no mount is possible", async () => {
    const store = openContentStore(join(work, "store1"));
    const layout = join(work, "chunky");
    makeLayoutImage(layout, { tag: "c", layers: [randomLayerTar(work, "big", 5 << 20)] });
    const loaded = await loadArchive(store, (await import("./lib/tar.ts")).tarOfDir(layout), { tag: "local/chunky:1" });
    const digest = loaded.images[0]!.digest;
    const pushed = await pushImage(client, store, "local/chunky:1", `${reg.host}/fresh/chunky:1`, { chunkSize: 1 << 20 });
    expect(pushed.uploaded).toBe(2);
    expect(pushed.digest).toBe(digest);
    expect(await skopeoDigest(`docker://${reg.host}/fresh/chunky:1`)).toBe(digest);
  });

  it("saves an OCI archive skopeo reads, and loads it back with the same digest", async () => {
    const store = openContentStore(join(work, "store1"));
    const src = `${reg.host}/test/busybox:1`;
    const digest = (await store.resolve(src)).manifestDigest;
    const archive = join(work, "saved.tar");
    const { stream, size } = await saveOciArchive(store, [src]);
    await Bun.write(archive, new Response(stream));
    expect(Bun.file(archive).size).toBe(size);
    await skopeoCopy(`oci-archive:${archive}`, `oci:${join(work, "from-archive")}:x`);
    expect(await skopeoDigest(`oci:${join(work, "from-archive")}:x`)).toBe(digest);

    const fresh = openContentStore(join(work, "store-load"));
    const loaded = await loadArchive(fresh, Bun.file(archive).stream());
    expect(loaded.format).toBe("oci-archive");
    expect(loaded.images).toEqual([{ ref: src, digest }]);
    expect((await fresh.resolve(src)).manifestDigest).toBe(digest);
  });

  it("prune keeps tagged images and finds nothing broken; untagged blobs go", async () => {
    const store = openContentStore(join(work, "store2"));
    const before = await pruneStore(store, { keep: new Set(), dryRun: true });
    expect(before.broken).toEqual([]);
    await store.untag(`${reg.host}/test/multi@${arm64}`);
    const r = await pruneStore(store, { keep: new Set() });
    expect(r.broken).toEqual([]);
    expect(readdirSync(store.tmpDir)).toEqual([]);
    // The multi:1 tag (host platform) still resolves with all its blobs.
    const img = await store.resolve(`${reg.host}/test/multi:1`);
    for (const l of img.layers) expect(existsSync(store.blobPath(l.digest as any))).toBe(true);
  });
});
