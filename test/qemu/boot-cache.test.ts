import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../harness/index.ts";
import { makeTestNetwork, netnsMissing, type TestNetwork } from "../harness/netns.ts";
import { baseImage, IMAGE_HOOK_MS, vmTestsMissing } from "./guest-image.ts";

/**
 * The boot files a VM backend extracts per image (kernel and initramfs under
 * `<state>/qemu/boot/<digest>/`, issue 17): `system df` counts them with images, and
 * `system prune` removes them (with the erofs root) once their image has left the store, as
 * a dry run says first. One real boot under TCG makes them.
 */
const skip = vmTestsMissing() ?? (netnsMissing() ? `skipped: VM tests need ${netnsMissing()}` : undefined);
if (skip && !vmTestsMissing()) console.warn(skip);
const BOOT_MS = 600_000;

describe.skipIf(skip)("qemu boot-file cache in system df and prune", () => {
  let net: TestNetwork;
  let server: TestServer;
  const ok = async (args: string[], timeoutMs = BOOT_MS) => {
    const r = await server.shed(args, { timeoutMs });
    if (r.code !== 0) throw new Error(`shed ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const json = (args: string[]) => server.shedJson(args, { timeoutMs: 120_000 });

  beforeAll(async () => {
    const image = (await baseImage()).ref;
    net = makeTestNetwork();
    server = await startServer({
      netns: net.host,
      config: { enabled_backends: ["qemu"], default_backend: "qemu", qemu: { accel: "tcg", default_cpus: 2, default_memory_mb: 1024, stop_timeout: 90, image_aliases: { base: image } } },
    });
  }, IMAGE_HOOK_MS);

  afterAll(async () => {
    if (server) {
      await server.shed(["delete", "bc1", "--force"]).catch(() => {});
      await server.stop();
    }
    await net?.remove();
  }, 120_000);

  it("counts the boot files with images while the image is there, and prunes them when it is gone", async () => {
    await ok(["create", "bc1", "--image", "base", "--no-sync"]);
    const boot = join(server.stateDir, "qemu", "boot");
    const dirs = readdirSync(boot);
    expect(dirs).toHaveLength(1);
    const dir = dirs[0]!;
    const digest = dir.replace("-", ":");
    const df = await json(["system", "df", "-v"]);
    const images = df.categories.find((c: { category: string }) => c.category === "images");
    const item = images.items.find((i: { name: string }) => i.name === `boot files ${dir}`);
    expect(item.physicalBytes).toBeGreaterThan(1 << 20);
    expect(images.physicalBytes).toBeGreaterThanOrEqual(item.physicalBytes);

    // In use (a shed, an alias): nothing of the image is prunable.
    const names = (r: { removed: { name: string }[] }) => r.removed.map((x) => x.name);
    expect(names(await json(["system", "prune", "--dry-run"]))).not.toContain(`boot files ${dir}`);
    await ok(["delete", "bc1", "--force"], 180_000);
    // The image leaves the store (every ref of it, by digest): what was made from it goes with the next prune.
    await ok(["image", "rm", digest]);
    const dry = await json(["system", "prune", "--dry-run"]);
    expect(names(dry)).toContain(`boot files ${dir}`);
    expect(names(dry).some((n) => n.startsWith(`erofs ${dir}`))).toBe(true);
    expect(dry.removed.find((r: { name: string }) => r.name === `boot files ${dir}`).bytes).toBe(item.physicalBytes);
    const real = await json(["system", "prune", "-f"]);
    expect(real.removed).toEqual(dry.removed);
    expect(existsSync(join(boot, dir))).toBe(false);
    const after = (await json(["system", "df", "-v"])).categories.find((c: { category: string }) => c.category === "images");
    expect(after.items.map((i: { name: string }) => i.name)).not.toContain(`boot files ${dir}`);
  }, 2 * BOOT_MS);
});
