import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, ensureTestImage, missing, sh, startServer, type TestServer } from "../harness/index.ts";

const skip = missing({ docker: true, commands: ["du"] });

/**
 * `shed system df` and `shed system prune` against a real server on Docker (issue 17): df's
 * totals are du's, a dry run lists exactly what the prune then removes, a kill -9 in the
 * middle of a snapshot create leaves an orphan that `prune --orphans` reclaims, and prune
 * reclaims nothing while a state file cannot be read.
 */
describe.skipIf(skip)("shed system df / prune (real server, Docker)", () => {
  let server: TestServer;
  let busyboxRef = "";
  const T = 180_000;
  const ok = async (args: string[]) => {
    const r = await server.shed(args, { timeoutMs: T });
    if (r.code !== 0) throw new Error(`shed ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const json = (args: string[]) => server.shedJson(args, { timeoutMs: T });
  const snapDir = (name: string) => join(server.stateDir, "docker", "snapshots", name);
  const engineObjects = (snapshot: string) =>
    ["images -q", "volume ls -q", "ps -aq"].flatMap((what) => sh(`docker ${what} --filter label=shed.snapshot=${snapshot}`).trim().split("\n").filter(Boolean));

  beforeAll(async () => {
    const image = await ensureTestImage("debian");
    server = await startServer({ config: { docker: { default_image: image } } });
    await ok(["create", "s1"]);
    // Something for the snapshot copy to take a while over (the kill -9 lands in the middle of it).
    await ok(["exec", "s1", "--", "sh", "-c", "head -c 400000000 /dev/urandom > /workspace/big && sync"]);
    await ok(["stop", "s1"]);
    await ok(["snapshot", "create", "s1", "kept-snap"]);
    // An image in the server's store (blobs), loaded from the engine's busybox.
    const busybox = await ensureTestImage("busybox");
    busyboxRef = busybox;
    const tar = join(server.dir, "busybox.tar");
    sh(`docker save ${busybox} -o ${tar}`);
    await ok(["image", "load", "-i", tar]);
  }, 5 * T);

  afterAll(async () => {
    await server?.stop();
    cleanupDocker();
  });

  it("df: per category, and its totals are du --apparent-size and du of the state dir", async () => {
    const df = await json(["system", "df"]);
    const apparent = Number(sh(`du -s -B1 --apparent-size ${server.stateDir}`).split(/\s/)[0]);
    const allocated = Number(sh(`du -s -B1 ${server.stateDir}`).split(/\s/)[0]);
    expect(df.totals.logicalBytes).toBe(apparent);
    expect(df.totals.physicalBytes + df.sharedBytes).toBe(allocated);
    const cat = (c: string) => df.categories.find((x: { category: string }) => x.category === c);
    expect(cat("sheds").count).toBe(1);
    expect(cat("snapshots").count).toBe(1);
    expect(cat("images").count).toBeGreaterThan(0);
    expect(cat("images").physicalBytes).toBeGreaterThan(0);
    expect(cat("orphans").count).toBe(0);
    // Snapshots are never reclaimable.
    expect(cat("snapshots").reclaimableBytes).toBe(0);
    const verbose = await json(["system", "df", "-v"]);
    const items = verbose.categories.flatMap((c: { items: { name: string; external?: boolean }[] }) => c.items);
    // The engine's part (the container, the volumes, the committed image) is listed beside the state dir.
    expect(items.filter((i: { external?: boolean }) => i.external).length).toBeGreaterThan(0);
    expect((await ok(["system", "df"])).split("\n")[0]).toMatch(/TYPE\s+COUNT\s+LOGICAL\s+PHYSICAL\s+RECLAIMABLE/);
  }, T);

  it("prune --until applies to images: one the store got after the cutoff stays, one it got before goes", async () => {
    // An untagged image (saved by id): only the cutoff decides whether the default prune removes it.
    const id = sh(`docker image inspect -f '{{.Id}}' ${await ensureTestImage("debian")}`).trim();
    const tar = join(server.dir, "untagged.tar");
    sh(`docker save ${id} -o ${tar}`);
    const loaded = await json(["image", "load", "-i", tar]);
    expect(loaded.images).toHaveLength(1);
    const digest: string = loaded.images[0].digest;
    expect(loaded.images[0].ref).toBeUndefined();
    const names = (r: { removed: { name: string }[] }) => r.removed.map((x) => x.name);
    const young = await json(["system", "prune", "--until", "72h", "--dry-run"]);
    expect(names(young)).not.toContain(digest);
    const kept = await json(["system", "prune", "--until", "72h", "-f"]);
    expect(kept.removed).toEqual(young.removed);
    expect((await json(["image", "inspect", digest])).error).toBeUndefined();
    await Bun.sleep(2_100);
    const old = await json(["system", "prune", "--until", "1s", "--dry-run"]);
    expect(names(old)).toContain(digest);
    // Its layers go with it (nothing else reaches them), and the tagged busybox stays.
    expect(old.removed.some((r: { name: string; bytes: number }) => / unused blobs$/.test(r.name) && r.bytes > 0)).toBe(true);
    const real = await json(["system", "prune", "--until", "1s", "-f"]);
    expect(real.removed).toEqual(old.removed);
    expect((await json(["image", "inspect", digest])).error.code).toBe("IMAGE_NOT_FOUND");
    expect((await json(["image", "inspect", busyboxRef])).error).toBeUndefined();
  }, T);

  it("prune --dry-run lists exactly what prune then removes; never a snapshot or an image in use", async () => {
    await ok(["image", "rm", busyboxRef]);
    const dry = await json(["system", "prune", "--dry-run"]);
    expect(dry.dryRun).toBe(true);
    expect(dry.removed.length).toBeGreaterThan(0);
    expect(dry.removed.every((r: { category: string }) => r.category !== "snapshots")).toBe(true);
    const real = await json(["system", "prune", "-f"]);
    expect(real.dryRun).toBe(false);
    expect(real.removed).toEqual(dry.removed);
    expect(real.reclaimedBytes).toBe(dry.reclaimedBytes);
    expect((await json(["system", "prune", "--dry-run"])).removed).toEqual([]);
    expect((await json(["snapshot", "info", "kept-snap"])).imagePresent).toBe(true);
    expect((await json(["info", "s1"])).state).toBe("stopped");
  }, T);

  it("a kill -9 during snapshot create leaves an orphan (invisible to snapshot list) that prune --orphans reclaims", async () => {
    const creating = server.shed(["snapshot", "create", "s1", "crash-snap"], { timeoutMs: T });
    const deadline = Date.now() + 60_000;
    while (!existsSync(snapDir("crash-snap")) && Date.now() < deadline) await Bun.sleep(5);
    expect(existsSync(snapDir("crash-snap"))).toBe(true);
    await server.kill("SIGKILL");
    expect((await creating).code).not.toBe(0);
    expect(existsSync(join(snapDir("crash-snap"), "snapshot.json"))).toBe(false);
    await server.restart();
    expect((await json(["snapshot", "list"])).snapshots.map((s: { name: string }) => s.name)).toEqual(["kept-snap"]);
    const df = await json(["system", "df"]);
    expect(df.categories.find((c: { category: string }) => c.category === "orphans").count).toBe(1);
    // Its name is taken until it is reclaimed, and the error says how.
    const again = await json(["snapshot", "create", "s1", "crash-snap"]);
    expect(again.error.code).toBe("SNAPSHOT_EXISTS");
    expect(again.error.message).toContain("prune --orphans");
    const dry = await json(["system", "prune", "--orphans", "--dry-run"]);
    expect(dry.removed.map((r: { category: string; name: string }) => `${r.category}/${r.name}`)).toEqual(["orphans/crash-snap"]);
    const real = await json(["system", "prune", "--orphans", "-f"]);
    expect(real.removed).toEqual(dry.removed);
    expect(existsSync(snapDir("crash-snap"))).toBe(false);
    expect(engineObjects("crash-snap")).toEqual([]);
    // The name is free again, and the snapshot that was there is untouched.
    await ok(["snapshot", "create", "s1", "crash-snap"]);
    await ok(["snapshot", "delete", "-f", "crash-snap"]);
    expect(engineObjects("crash-snap")).toEqual([]);
    expect((await json(["snapshot", "info", "kept-snap"])).name).toBe("kept-snap");
  }, 3 * T);

  it("prune fails closed: an unreadable state file stops it (saying which), and nothing is reclaimed", async () => {
    // What a crash leaves for an orphan (a directory without metadata), and a state file that is not JSON.
    mkdirSync(snapDir("left-over"));
    writeFileSync(join(snapDir("left-over"), "partial"), "x".repeat(4096));
    const broken = join(server.stateDir, "sheds", "broken.json");
    writeFileSync(broken, "{ not json");
    for (const args of [["system", "prune", "--orphans", "-f"], ["system", "prune", "--dry-run"]]) {
      const r = await json(args);
      expect(r.error.code).toBe("STATE_UNREADABLE");
      expect(r.error.message).toContain(broken);
    }
    expect(existsSync(snapDir("left-over"))).toBe(true);
    expect((await json(["system", "df"])).unreadable.join()).toContain(broken);
    rmSync(broken);
    expect((await json(["system", "prune", "--orphans", "-f"])).removed.map((r: { name: string }) => r.name)).toEqual(["left-over"]);
    expect(existsSync(snapDir("left-over"))).toBe(false);
  }, T);
});
