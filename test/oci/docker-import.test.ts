import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerEngine } from "../../src/backends/docker/engine.ts";
import { importImageFromStore } from "../../src/backends/docker/image-import.ts";
import { loadArchive } from "../../src/oci/archive/load.ts";
import { openContentStore } from "../../src/oci/store/layout.ts";
import { missing, sh } from "../harness/host.ts";
import { busyboxRootfsTar } from "../harness/images.ts";
import { runId, testLabels } from "../harness/run-id.ts";
import { makeLayoutImage } from "./lib/images.ts";
import { tarOfDir } from "./lib/tar.ts";

const skip = missing({ docker: true });

describe.skipIf(skip)("Docker backend takes images from the store (docker-archive into POST /images/load)", () => {
  let work: string;
  const loadedIds: string[] = [];

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "shed-oci-dimport-"));
  });
  afterAll(() => {
    // Only the images this test made (their config carries this run's id).
    for (const id of loadedIds) sh(`docker rmi -f ${id} >/dev/null 2>&1`, { allowFail: true });
    rmSync(work, { recursive: true, force: true });
  });

  it("loads a gzip-layered OCI image into dockerd, whose image id is the config digest, and runs it", async () => {
    const store = openContentStore(join(work, "store"));
    const layout = join(work, "layout");
    makeLayoutImage(layout, { tag: "x", layers: [busyboxRootfsTar()], gzip: true, labels: { "shed.test.run": runId } });
    const ref = `shed-test-import/${runId}:1`;
    const { images } = await loadArchive(store, tarOfDir(layout), { tag: ref });
    const image = await store.resolve(ref);
    expect(images[0]!.digest).toBe(image.manifestDigest);

    const engine = new DockerEngine("/var/run/docker.sock");
    const events: string[] = [];
    const first = await importImageFromStore(engine, store, ref, (e) => events.push(e.status));
    loadedIds.push(first.imageId);
    expect(first).toMatchObject({ imageId: image.configDigest, loaded: true, tag: ref });
    expect(events.some((s) => s.startsWith("loaded into the Docker engine"))).toBe(true);
    const inspect = JSON.parse(sh(`docker image inspect ${first.imageId}`))[0];
    expect(inspect.Id).toBe(image.configDigest);
    expect(inspect.RepoTags).toContain(ref);

    const labels = Object.entries(testLabels).map(([k, v]) => `--label ${k}=${v}`).join(" ");
    const out = sh(`docker run --rm ${labels} ${first.imageId} /bin/busybox echo hello-from-store`);
    expect(out.trim()).toBe("hello-from-store");

    const second = await importImageFromStore(engine, store, ref);
    expect(second.loaded).toBe(false);
    expect(second.imageId).toBe(first.imageId);
  });
});
