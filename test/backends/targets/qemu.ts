import { existsSync } from "node:fs";
import { join } from "node:path";
import { startServer } from "../../harness/index.ts";
import { makeTestNetwork, netnsMissing, type TestNetwork } from "../../harness/netns.ts";
import { baseImage, IMAGE_HOOK_MS, vmTestsMissing } from "../../qemu/guest-image.ts";
import { qemuProcesses } from "../../qemu/processes.ts";
import type { LifecycleTarget } from "../target.ts";

let net: TestNetwork | undefined;

/**
 * qemu in the lifecycle suite: real VMs under TCG booted from the base guest image, the
 * server in a network namespace the test made (its isolated VM network makes a bridge and
 * nftables rules there), the instance its QEMU process and instance dir.
 */
export const qemuTarget: LifecycleTarget = {
  backend: "qemu",
  missing: () => vmTestsMissing() ?? (netnsMissing() ? `skipped: VM tests need ${netnsMissing()}` : undefined),
  async start() {
    const image = (await baseImage()).ref;
    net = makeTestNetwork();
    const server = await startServer({
      netns: net.host,
      config: {
        enabled_backends: ["qemu"],
        default_backend: "qemu",
        qemu: { accel: "tcg", default_cpus: 2, default_memory_mb: 1024, stop_timeout: 90, image_aliases: { base: image } },
      },
    });
    return { server, image: "base" };
  },
  async cleanup() {
    await net?.remove();
  },
  create: { args: ["--cpus", "2", "--memory", "1024"], expect: { cpus: 2, memoryMb: 1024 } },
  keptPaths: () => ["/workspace/kept", "/root/kept"],
  instance(server, name) {
    if (qemuProcesses(server, name).length) return "running";
    return existsSync(join(server.stateDir, "qemu", "instances", name)) ? "stopped" : "gone";
  },
  identity: (server, name) => qemuProcesses(server, name).join(","),
  // A VM's QEMU runs as the owner of its writable shares: a person's project directory.
  localDirOwner: 1000,
  timeoutMs: 600_000,
  startTimeoutMs: IMAGE_HOOK_MS,
};
