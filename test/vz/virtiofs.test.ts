import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../harness/index.ts";
import { baseImage, vmTestsMissing } from "../qemu/guest-image.ts";
import { installStandin, standinMissing } from "./standin/install.ts";

/**
 * vz through a real server and the vfkit stand-in, beyond the lifecycle suite (which covers
 * --local-dir both ways): a VirtioFS mount that fails fails the create and leaves nothing
 * (seed 004: "Local-dir mount (VZ): fatal, VM stopped, create fails"); a socket path past
 * macOS's limit is refused before vfkit is ever run.
 */
const skip = vmTestsMissing() ?? standinMissing();
if (skip) console.warn(`vz VirtioFS tests: ${skip}`);

describe.skipIf(skip)("vz: VirtioFS and refusals before launch", () => {
  const dir = mkdtempSync(join(tmpdir(), "shed-vz-fs-"));
  const standin = installStandin(dir, { fault: "no-virtiofs" });
  let server: TestServer;
  const T = 900_000;

  beforeAll(async () => {
    const image = (await baseImage()).ref;
    server = await startServer({
      config: {
        enabled_backends: ["vz"],
        default_backend: "vz",
        vz: { vfkit_path: standin.path, default_cpus: 1, default_memory_mb: 1024, start_timeout: 800, image_aliases: { base: image } },
      },
    });
  }, T);

  afterAll(async () => {
    await server?.shed(["delete", "nomount", "--force"]).catch(() => {});
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, T);

  it("a VirtioFS mount that fails: MOUNT_FAILED, the VM stopped, nothing left (record, instance dir, sockets, process)", async () => {
    const ws = join(dir, "ws");
    mkdirSync(ws);
    writeFileSync(join(ws, "kept.txt"), "mine\n");
    chownSync(ws, 1000, 1000);
    const r = await server.shedJson(["create", "nomount", "--image", "base", "--local-dir", ws], { timeoutMs: T });
    expect(r.error?.code, JSON.stringify(r)).toBe("MOUNT_FAILED");
    expect(r.error.message).toContain(ws);
    expect(r.error.message).toContain("/workspace");
    // The stand-in ran the VM (the argv had the share), and vfkit is gone again.
    const invoked = standin.events().filter((e) => e.event === "invoked");
    expect(invoked.at(-1)?.argv?.some((a) => a.startsWith(`virtio-fs,sharedDir=${ws},mountTag=`))).toBe(true);
    const pid = invoked.at(-1)!.pid;
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(((await server.shedJson(["list"])).sheds as { name: string }[]).map((s) => s.name)).not.toContain("nomount");
    expect(existsSync(join(server.stateDir, "vz", "instances", "nomount"))).toBe(false);
    expect(existsSync(join(server.stateDir, "vz", "sockets", "nomount"))).toBe(false);
    // The user's directory is theirs: untouched.
    expect(readdirSync(ws)).toEqual(["kept.txt"]);
  }, T);

  it("a shed whose socket path would pass macOS's 104 bytes is refused before vfkit runs, and leaves nothing", async () => {
    const before = standin.events().length;
    const name = `n${"x".repeat(62)}`;
    const long = join(dir, "s".repeat(40));
    const other = await startServer({
      config: {
        enabled_backends: ["vz"],
        default_backend: "vz",
        vz: { vfkit_path: standin.path, socket_dir: long, image_aliases: { base: (await baseImage()).ref } },
      },
    });
    try {
      const r = await other.shedJson(["create", name, "--image", "base"], { timeoutMs: T });
      expect(r.error?.code, JSON.stringify(r)).toBe("INVALID_REQUEST");
      expect(r.error.message).toMatch(/macOS allows 103/);
      expect(r.error.message).toContain("vz.socket_dir");
      expect(standin.events().length).toBe(before);
      expect(existsSync(join(other.stateDir, "vz", "instances", name))).toBe(false);
      expect(((await other.shedJson(["list"])).sheds as unknown[]).length).toBe(0);
    } finally {
      await other.stop();
    }
  }, T);
});
