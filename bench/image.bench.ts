/**
 * Image figures beside their peers, one run, on a ~400 MB image of four gzip layers (a Debian
 * root from debootstrap and three layers of random bytes) in a local docker-registry:
 *   `shed image pull` (CLI -> server -> registry, empty store each time)
 *     vs `skopeo copy docker://... oci:...` into an empty layout
 *   the image's erofs root filesystem (ensureRootfs: safe flatten + mkfs.erofs -zlz4hc)
 *     vs `tar -xzf` of each layer into a directory + the same mkfs.erofs (no whiteouts, no checks)
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
    target: "<= 1.0x",
  });

  // The last pull left the image in the server's store: build from there.
  const local = openContentStore(join(server.stateDir, "images"));
  let n = 0;
  await compareTimes({
    name: "erofs root filesystem from the image",
    peerName: "tar -x + mkfs.erofs",
    runs: Number(process.env.BENCH_EROFS_RUNS ?? 2),
    warmup: 0,
    ours: async () => {
      const stateDir = join(work, `rootfs-${n++}`);
      await ensureRootfs(local, ref, { stateDir });
      rmSync(stateDir, { recursive: true, force: true });
    },
    peer: async () => {
      const dir = join(work, "peer-root");
      mkdirSync(dir, { recursive: true });
      const image = await local.resolve(ref);
      for (const l of image.layers) await run(["tar", "-xzf", local.blobPath(l.digest as `sha256:${string}`), "-C", dir]);
      await run(["mkfs.erofs", "--quiet", "--preserve-mtime", "-zlz4hc", join(work, "peer.erofs"), dir]);
      rmSync(dir, { recursive: true, force: true });
      rmSync(join(work, "peer.erofs"), { force: true });
    },
  });
} finally {
  await server.stop();
  await reg.stop();
  rmSync(work, { recursive: true, force: true });
}
