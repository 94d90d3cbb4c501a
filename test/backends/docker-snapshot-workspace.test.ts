import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, ensureTestImage, missing, runId, sh, startServer, type TestServer } from "../harness/index.ts";

const skip = missing({ docker: true });

/**
 * A Docker spawn's /workspace and home are the snapshot's exactly (issue 17). The engine fills
 * an empty named volume from the image's directory when a container is created: a spawn's
 * volume must not be, or files the image ships in /workspace that were deleted before the
 * snapshot come back (and an emptied /workspace is refilled). The image here ships two files
 * in /workspace and one in the home.
 */
describe.skipIf(skip)("docker snapshots keep /workspace and home exactly", () => {
  let server: TestServer;
  const image = `shed-test/workspace-files:${runId}`;
  const T = 240_000;
  const ok = async (args: string[]) => {
    const r = await server.shed(args, { timeoutMs: T });
    if (r.code !== 0) throw new Error(`shed ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const listing = (name: string) => ok(["exec", name, "--", "sh", "-c", "cd /workspace && find . -mindepth 1 | sort; echo --; ls -A /home/shed | sort"]);

  beforeAll(async () => {
    const base = await ensureTestImage("debian");
    server = await startServer({ config: { docker: { default_image: image } } });
    const ctx = join(server.dir, "image-ctx");
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, "a.txt"), "from the image\n");
    writeFileSync(join(ctx, "Dockerfile"), `FROM ${base}\nCOPY a.txt /workspace/from-image.txt\nCOPY a.txt /workspace/keep.txt\nCOPY a.txt /home/shed/from-image-home.txt\n`);
    sh(`docker build -q --label shed.test=1 --label shed.test.run=${runId} -t ${image} ${ctx} >/dev/null`);
  }, T);

  afterAll(async () => {
    await server?.stop();
    cleanupDocker();
  });

  it("a file deleted before the snapshot stays deleted in the spawn; what was added is there", async () => {
    await ok(["create", "src"]);
    expect(await listing("src")).toContain("./from-image.txt");
    await ok(["exec", "src", "--", "sh", "-c", "rm /workspace/from-image.txt /home/shed/from-image-home.txt && mkdir /workspace/d && echo mine > /workspace/d/mine.txt && echo dot > /home/shed/.mine"]);
    const before = await listing("src");
    await ok(["stop", "src"]);
    await ok(["snapshot", "create", "src", "ws-snap"]);
    await ok(["create", "spawn", "--from-snapshot", "ws-snap"]);
    const spawned = await listing("spawn");
    expect(spawned).toBe(before);
    expect(spawned).not.toContain("from-image");
    expect(await ok(["exec", "spawn", "--", "cat", "/workspace/d/mine.txt"])).toBe("mine\n");
    // And it stays so across the spawn's own stop and start.
    await ok(["stop", "spawn"]);
    await ok(["start", "spawn"]);
    expect(await listing("spawn")).toBe(before);
  }, 4 * T);

  it("an emptied /workspace stays empty in the spawn", async () => {
    await ok(["start", "src"]);
    await ok(["exec", "src", "--", "sh", "-c", "rm -rf /workspace/* /workspace/.[!.]* 2>/dev/null; true"]);
    expect((await listing("src")).split("--")[0]!.trim()).toBe("");
    await ok(["stop", "src"]);
    await ok(["snapshot", "create", "src", "empty-snap"]);
    await ok(["create", "spawn-empty", "--from-snapshot", "empty-snap"]);
    expect((await listing("spawn-empty")).split("--")[0]!.trim()).toBe("");
  }, 4 * T);
});
