import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../../harness/index.ts";
import { firecrackerPid, instanceDir, standinBinary, testVmlinux } from "../../firecracker/harness.ts";
import { baseImage, IMAGE_HOOK_MS, vmTestsMissing } from "../../qemu/guest-image.ts";
import type { LifecycleTarget } from "../target.ts";

const work = mkdtempSync(join(tmpdir(), "shed-fc-target-"));

/**
 * firecracker in the lifecycle suite: the backend drives the Firecracker stand-in
 * (test/firecracker/standin: Firecracker's API checked against its contract, a real VM under
 * QEMU TCG) with the base image and Debian's kernel as vmlinux; no network device (the
 * netns test covers the network), the instance its stand-in process and instance dir.
 */
export const firecrackerTarget: LifecycleTarget = {
  backend: "firecracker",
  missing: () => vmTestsMissing(),
  async start() {
    const image = (await baseImage()).ref;
    const server = await startServer({
      config: {
        enabled_backends: ["firecracker"],
        default_backend: "firecracker",
        firecracker: {
          binary: standinBinary(join(work, "bin"), join(work, "requests")),
          kernel_path: await testVmlinux(),
          network: "none",
          default_cpus: 2,
          default_memory_mb: 1024,
          stop_timeout: 90,
          start_timeout: 600,
          image_aliases: { base: image },
        },
      },
    });
    return { server, image: "base" };
  },
  async cleanup() {
    rmSync(work, { recursive: true, force: true });
  },
  create: { args: ["--cpus", "2", "--memory", "1024"], expect: { cpus: 2, memoryMb: 1024 } },
  keptPaths: () => ["/workspace/kept", "/root/kept"],
  instance(server, name) {
    if (firecrackerPid(server, name)) return "running";
    return existsSync(instanceDir(server, name)) ? "stopped" : "gone";
  },
  identity: (server, name) => String(firecrackerPid(server, name) ?? ""),
  timeoutMs: 600_000,
  startTimeoutMs: IMAGE_HOOK_MS,
};
