import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, ensureTestImage, missing, sh, startServer, type TestServer } from "../harness/index.ts";
import { busyboxRootfsTar } from "../harness/images.ts";
import { makeLayoutImage, randomLayerTar, skopeoCopy, skopeoDigest } from "./lib/images.ts";
import { startRegistry, type TestRegistry } from "./lib/registry.ts";

const skip = missing({ docker: true, commands: ["docker-registry", "skopeo"] });

/**
 * Every `shed image` command through the compiled CLI and server, checked against skopeo and
 * dockerd; and a Docker shed created from an image that only a registry has.
 */
describe.skipIf(skip)("shed image through shed-server (compiled binaries, real registry)", () => {
  let work: string;
  let reg: TestRegistry;
  let server: TestServer;
  let ref: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "shed-oci-cli-"));
    reg = await startRegistry(join(work, "registry"));
    const layout = join(work, "layout");
    makeLayoutImage(layout, { tag: "t", layers: [busyboxRootfsTar(), randomLayerTar(work, "extra", 2 << 20)], gzip: true, history: ["busybox", "random"] });
    ref = `${reg.host}/cli/bb:1`;
    await skopeoCopy(`oci:${layout}:t`, `docker://${ref}`);
    await skopeoCopy(`oci:${layout}:t`, `docker://${reg.host}/cli/fresh:1`);
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
    await reg?.stop();
    cleanupDocker();
    sh(`docker rmi -f ${reg?.host}/cli/fresh:1 >/dev/null 2>&1 || true`);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("pull: the digest equals skopeo's; --json is the result, --progress json streams progress lines on stderr", async () => {
    const r = await server.shed(["--json", "--progress", "json", "image", "pull", ref]);
    expect(r.code).toBe(0);
    const progress = r.stderr.trim().split("\n").map((l) => JSON.parse(l));
    expect(progress.every((l) => l.progress?.id)).toBe(true);
    expect(progress.length).toBeGreaterThan(1);
    const result = JSON.parse(r.stdout);
    expect(result.digest).toBe(await skopeoDigest(`docker://${ref}`));
    expect(result.layers).toBe(2);

    const human = await server.shed(["image", "pull", ref]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("already up to date");
  });

  it("ls, inspect and history describe it", async () => {
    const { images } = await server.shedJson(["image", "ls"]);
    const row = images.find((i: any) => i.ref === ref);
    expect(row).toMatchObject({ source: "user" });
    expect(row.size).toBeGreaterThan(2 << 20);
    const table = await server.shed(["image", "ls"]);
    expect(table.stdout).toMatch(/REF\s+DIGEST\s+SIZE\s+SOURCE\s+CREATED/);
    expect(table.stdout).toContain("cli/bb:1");

    const inspected = await server.shedJson(["image", "inspect", ref]);
    expect(inspected.digest).toBe(row.digest);
    expect(inspected.layers).toHaveLength(2);
    const history = await server.shedJson(["image", "history", ref]);
    expect(JSON.stringify(history)).toContain("random");
  });

  it("tag and push: the registry holds the same digest (read back by skopeo)", async () => {
    expect((await server.shed(["image", "tag", ref, "local/copy:2"])).code).toBe(0);
    const pushed = await server.shedJson(["image", "push", "local/copy:2", `${reg.host}/other/copy:2`]);
    expect(pushed.digest).toBe(await skopeoDigest(`docker://${ref}`));
    expect(await skopeoDigest(`docker://${reg.host}/other/copy:2`)).toBe(pushed.digest);
  });

  it("save writes an OCI archive skopeo reads; load takes it and a docker save archive", async () => {
    const archive = join(work, "bb.tar");
    const saved = await server.shed(["image", "save", ref, "-o", archive]);
    expect(saved.code, saved.stderr).toBe(0);
    await skopeoCopy(`oci-archive:${archive}`, `oci:${join(work, "back")}:x`);
    expect(await skopeoDigest(`oci:${join(work, "back")}:x`)).toBe(await skopeoDigest(`docker://${ref}`));

    const busybox = await ensureTestImage("busybox");
    const dockerSave = join(work, "docker-save.tar");
    sh(`docker save -o ${dockerSave} ${busybox}`);
    const loaded = await server.shedJson(["image", "load", "-i", dockerSave]);
    expect(loaded.format).toBe("docker-archive");
    expect(loaded.images[0].ref).toContain("shed-test/busybox:1");
    const fromStdin = await server.shed(["--json", "image", "load", "-t", "again/bb:1"], { stdin: await Bun.file(archive).bytes() });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toContain("oci-archive");
  });

  it("load takes archives past the HTTP server's default body cap (128 MB)", async () => {
    const layout = join(work, "big-layout");
    makeLayoutImage(layout, { tag: "big", layers: [randomLayerTar(work, "big", 140 << 20, 2)] });
    const archive = join(work, "big.tar");
    await skopeoCopy(`oci:${layout}:big`, `oci-archive:${archive}`);
    const loaded = await server.shedJson(["image", "load", "-i", archive, "-t", "cli/big:1"]);
    expect(loaded.images?.[0]?.ref, JSON.stringify(loaded)).toContain("cli/big:1");
    expect((await server.shed(["image", "rm", "cli/big:1"])).code).toBe(0);
    rmSync(archive, { force: true });
  });

  it("rm keeps what a shed uses; prune --dry-run lists, prune removes", async () => {
    expect((await server.shed(["image", "rm", "again/bb:1"])).code).toBe(0);
    const gone = await server.shedJson(["image", "inspect", "again/bb:1"]);
    expect(gone.error.code).toBe("IMAGE_NOT_FOUND");
    const dry = await server.shedJson(["image", "prune", "--dry-run", "--all"]);
    expect(dry.dryRun).toBe(true);
    expect((await server.shedJson(["image", "inspect", "local/copy:2"])).digest).toBeDefined();
  });

  it("create on Docker takes an image only the registry has: pulled registry-direct, loaded into the engine", async () => {
    const fresh = `${reg.host}/cli/fresh:1`;
    const created = await server.shed(["create", "fromreg", "--image", fresh]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/loaded into the Docker engine|loading into the Docker engine/);
    const out = await server.shed(["exec", "fromreg", "--", "ls", "/"]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain("extra-0.bin");
    const inUse = await server.shedJson(["image", "rm", fresh]);
    expect(inUse.error.code).toBe("IMAGE_IN_USE");
    expect((await server.shed(["delete", "fromreg", "--force"])).code).toBe(0);

    const missingImage = await server.shedJson(["create", "noimg", "--image", `${reg.host}/cli/nothing:1`]);
    expect(missingImage.error.code).toBe("IMAGE_NOT_FOUND");
    expect(missingImage.error.message).toContain("cli/nothing:1");
  });

  it("build: the engine builds (honouring .dockerignore), the store keeps the result; failures say why", async () => {
    const base = await ensureTestImage("busybox");
    const ctx = join(work, "ctx");
    mkdirSync(ctx);
    writeFileSync(join(ctx, "keep.txt"), "kept\n");
    writeFileSync(join(ctx, "secret.txt"), "not sent\n");
    writeFileSync(join(ctx, ".dockerignore"), "secret.txt\n");
    writeFileSync(join(ctx, "Dockerfile"), `FROM ${base}\nCOPY . /ctx/\nRUN test -e /ctx/keep.txt && test ! -e /ctx/secret.txt\n`);
    const built = await server.shed(["--json", "image", "build", "-t", "cli/built:1", ctx]);
    expect(built.code, built.stdout + built.stderr).toBe(0);
    const result = JSON.parse(built.stdout.trim().split("\n").at(-1)!);
    expect(result.ref).toContain("cli/built:1");
    expect((await server.shedJson(["image", "inspect", "cli/built:1"])).digest).toBe(result.digest);

    writeFileSync(join(ctx, "Broken.dockerfile"), `FROM ${base}\nRUN echo about to fail && exit 3\n`);
    const failed = await server.shedJson(["image", "build", "-f", join(ctx, "Broken.dockerfile"), ctx]);
    expect(failed.error.code).toBe("BUILD_FAILED");
    expect(failed.error.message).toContain("about to fail");
    sh(`docker rmi -f cli/built:1 >/dev/null 2>&1 || true`);
  });

  it("errors: an unknown image and a missing context are clear", async () => {
    const none = await server.shedJson(["image", "pull", `${reg.host}/cli/none:1`]);
    expect(none.error.code).toBe("IMAGE_NOT_FOUND");
    const noCtx = await server.shed(["image", "build", join(work, "no-such-dir")]);
    expect(noCtx.code).toBe(2);
    expect(noCtx.stderr).toContain("not a directory");
  });
});
