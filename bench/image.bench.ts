/**
 * Image figures beside their peers, one run, on a ~400 MB image of four gzip layers (a Debian
 * root from debootstrap and three layers of random bytes) in a local docker-registry:
 *   `shed image pull` (CLI -> server -> registry, empty store each time)
 *     vs `skopeo copy docker://... oci:...` into an empty layout
 *   the image's erofs root filesystem (ensureRootfs: safe flatten + mkfs.erofs, per rootfs_compression)
 *     vs `tar -xzf` of each layer into a directory + mkfs.erofs -zlz4 (no whiteouts, no checks)
 *   reading every file of the default (uncompressed) root vs of the peer's lz4 root, cold cache
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { debianRootfsTar } from "../guest/docker-dev/rootfs.ts";
import { ensureRootfs } from "../src/oci/rootfs/index.ts";
import { openContentStore } from "../src/oci/store/layout.ts";
import { startServer } from "../test/harness/index.ts";
import { makeLayoutImage, randomLayerTar, skopeoCopy } from "../test/oci/lib/images.ts";
import { startRegistry } from "../test/oci/lib/registry.ts";
import { compareTimes, run } from "./lib.ts";

const MB = 1024 * 1024;
const work = mkdtempSync(join(tmpdir(), "shed-bench-image-"));
const reg = await startRegistry(join(work, "registry"));
const server = await startServer();
const env = { SHED_CONFIG_DIR: server.configDir };
const bin = new URL("../dist/shed", import.meta.url).pathname;
try {
  const layers = [debianRootfsTar(process.env.SHED_TEST_CACHE ?? "/var/cache/shed-test")];
  for (let i = 0; i < 3; i++) layers.push(randomLayerTar(work, `random${i}`, 100 * MB));
  const layout = join(work, "layout");
  makeLayoutImage(layout, { tag: "big", layers, gzip: true });
  const ref = `${reg.host}/bench/big:1`;
  await skopeoCopy(`oci:${layout}:big`, `docker://${ref}`);
  const size = Number(Bun.spawnSync(["du", "-sb", join(layout, "blobs")]).stdout.toString().split("\t")[0]);
  console.log(`image: ${layers.length} gzip layers, ${(size / MB).toFixed(0)} MB in the registry`);

  const peerDir = join(work, "skopeo");
  await compareTimes({
    name: "image pull ~400 MB (median)",
    peerName: "skopeo copy",
    runs: Number(process.env.BENCH_PULL_RUNS ?? 3),
    warmup: 1,
    ours: async () => {
      await run([bin, "image", "rm", ref], { env }).catch(() => {});
      await run([bin, "image", "prune"], { env });
      await run([bin, "image", "pull", ref], { env });
    },
    peer: async () => {
      rmSync(peerDir, { recursive: true, force: true });
      await run(["skopeo", "copy", "--quiet", "--src-tls-verify=false", `docker://${ref}`, `oci:${peerDir}:x`]);
    },
    accel: "none (no VM)",
    target: "<= 1.0x",
  });

  // The last pull left the image in the server's store: build from there. Ours is
  // ensureRootfs (safe flatten + mkfs.erofs) with each rootfs_compression; the peer is what a
  // person would type: tar -x of each layer (no whiteouts, no checks) + mkfs.erofs -zlz4.
  const local = openContentStore(join(server.stateDir, "images"));
  const peerErofs = join(work, "peer.erofs");
  const peer = async () => {
    const dir = join(work, "peer-root");
    rmSync(peerErofs, { force: true });
    mkdirSync(dir, { recursive: true });
    const image = await local.resolve(ref);
    for (const l of image.layers) await run(["tar", "-xzf", local.blobPath(l.digest as `sha256:${string}`), "-C", dir]);
    await run(["mkfs.erofs", "--quiet", "--preserve-mtime", "-zlz4", peerErofs, dir]);
    rmSync(dir, { recursive: true, force: true });
  };
  const built: Record<string, string> = {};
  for (const compression of ["none", "lz4"] as const) {
    let n = 0;
    await compareTimes({
      name: `erofs root from the image (${compression}${compression === "none" ? ", the default" : ""})`,
      peerName: "tar -x + mkfs.erofs -zlz4",
      runs: Number(process.env.BENCH_EROFS_RUNS ?? 2),
      warmup: 0,
      accel: "none (no VM)",
      target: "<= 1.2x",
      ours: async () => {
        const stateDir = join(work, `rootfs-${compression}-${n++}`);
        rmSync(join(work, `rootfs-${compression}-${n - 2}`), { recursive: true, force: true });
        built[compression] = (await ensureRootfs(local, ref, { stateDir, compression })).path;
      },
      peer,
    });
  }
  // Reading the result: every file of the mounted root read once, cold cache (what a boot
  // and the first commands pay), beside the peer's lz4 image.
  const readAll = async (erofs: string) => {
    const mnt = mkdtempSync(join(work, "mnt-"));
    await run(["mount", "-t", "erofs", "-o", "ro,loop", erofs, mnt]);
    try {
      await run(["sh", "-c", "sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true"]);
      await run(["sh", "-c", `find ${mnt} -type f -print0 | xargs -0 cat > /dev/null`]);
    } finally {
      await run(["umount", mnt]);
    }
  };
  const canMount = Bun.spawnSync(["sh", "-c", "grep -qw erofs /proc/filesystems || modprobe erofs 2>/dev/null; grep -qw erofs /proc/filesystems"]).exitCode === 0;
  if (!canMount) console.warn("skipped: erofs read rows: this kernel cannot mount erofs");
  else {
    const sizeOf = (p: string) => Bun.file(p).size;
    await compareTimes({
      name: "read every file of the root (none, the default)",
      peerName: "the same of the -zlz4 image",
      runs: 3,
      warmup: 1,
      accel: "none (no VM)",
      note: `image sizes: none ${(sizeOf(built.none!) / MB).toFixed(0)} MB, lz4 ${(sizeOf(built.lz4!) / MB).toFixed(0)} MB, peer lz4 ${(sizeOf(peerErofs) / MB).toFixed(0)} MB`,
      ours: () => readAll(built.none!),
      peer: () => readAll(peerErofs),
    });
  }
} finally {
  await server.stop();
  await reg.stop();
  rmSync(work, { recursive: true, force: true });
}
