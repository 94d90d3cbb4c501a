import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { runningPid } from "../../../src/proc/pid-file.ts";
import { startServer, type TestServer } from "../../harness/index.ts";
import { baseImage, vmTestsMissing } from "../../qemu/guest-image.ts";
import { installStandin, standinMissing } from "../../vz/standin/install.ts";
import type { LifecycleTarget } from "../target.ts";

let standin: ReturnType<typeof installStandin> | undefined;
let dir = "";

const instanceDir = (server: TestServer, name: string) => join(server.stateDir, "vz", "instances", name);
const vfkitPid = (server: TestServer, name: string) => runningPid(join(instanceDir(server, name), "vfkit.pid"), instanceDir(server, name));

/**
 * vz in the lifecycle suite: vfkit is the strict stand-in (test/vz/standin), which boots the
 * base guest image under QEMU TCG with real virtiofsd; the instance is the stand-in's vfkit
 * process and instance dir. No NIC (vz.network none): VM networking only in a netns.
 */
export const vzTarget: LifecycleTarget = {
  backend: "vz",
  missing: () => vmTestsMissing() ?? standinMissing(),
  async start() {
    const image = (await baseImage()).ref;
    dir = mkdtempSync(join(tmpdir(), "shed-vz-standin-"));
    standin = installStandin(dir);
    const server = await startServer({
      config: {
        enabled_backends: ["vz"],
        default_backend: "vz",
        vz: { vfkit_path: standin.path, default_cpus: 2, default_memory_mb: 1024, stop_timeout: 90, start_timeout: 600, image_aliases: { base: image } },
      },
    });
    return { server, image: "base" };
  },
  async cleanup() {
    if (dir) rmSync(dir, { recursive: true, force: true });
  },
  create: { args: ["--cpus", "2", "--memory", "1024"], expect: { cpus: 2, memoryMb: 1024 } },
  keptPaths: () => ["/workspace/kept", "/root/kept"],
  instance(server, name) {
    if (vfkitPid(server, name)) return "running";
    return existsSync(instanceDir(server, name)) ? "stopped" : "gone";
  },
  identity: (server, name) => String(vfkitPid(server, name) ?? ""),
  afterCreate(server, name) {
    // vfkit was run with vfkit's own grammar (the stand-in refuses anything else) and the shed's devices.
    const pid = vfkitPid(server, name);
    const invoked = standin!.events().find((e) => e.pid === pid && e.event === "invoked");
    expect(invoked?.argv).toContain(`unix://${join(server.stateDir, "vz", "sockets", name, "rest.sock")}`);
    expect(invoked?.argv?.some((a) => a.startsWith("virtio-vsock,port=1024,") && a.endsWith(",connect"))).toBe(true);
    expect(invoked?.argv).toContain(`virtio-serial,logFilePath=${join(instanceDir(server, name), "console.log")}`);
  },
  localDirOwner: 1000,
  timeoutMs: 600_000,
};
