import { expect } from "vitest";
import { cleanupDocker, dockerAvailable, ensureTestImage, namePrefix, sh, startServer } from "../../harness/index.ts";
import type { LifecycleTarget } from "../target.ts";

function inspect(name: string): any {
  const out = sh(`docker inspect ${namePrefix}${name} 2>/dev/null || true`);
  const parsed = out.trim() ? JSON.parse(out) : [];
  return parsed[0];
}

const volumeExists = (name: string) => sh(`docker volume ls -q --filter name=^${namePrefix}${name}-workspace$`).trim() !== "";
let image = "";

/** Docker in the lifecycle suite: the Debian test image through a config alias, its container and volume as the instance. */
export const dockerTarget: LifecycleTarget = {
  backend: "docker",
  missing: () => (dockerAvailable() ? undefined : "skipped: needs a running Docker engine (/var/run/docker.sock)"),
  async start() {
    image = await ensureTestImage("debian");
    const server = await startServer({ config: { docker: { default_image: image, image_aliases: { dev: image } } } });
    return { server, image: "dev" };
  },
  async cleanup() {
    cleanupDocker();
  },
  create: { args: ["--cpus", "1.5", "--memory", "768"], expect: { cpus: 1.5, memoryMb: 768 } },
  keptPaths: () => ["/workspace/file", "/root/file"],
  instance(_server, name) {
    const c = inspect(name);
    if (c) return c.State.Running ? "running" : "stopped";
    return volumeExists(name) ? "stopped" : "gone";
  },
  identity: (_server, name) => {
    const c = inspect(name);
    return c ? `${c.Id} ${c.State.StartedAt}` : undefined;
  },
  async afterCreate(server, name) {
    // The container as the engine has it: labels, image, limits, init; and its volume.
    const c = inspect(name);
    expect(c.Config.Labels["shed.name"]).toBe(name);
    expect(c.Config.Labels["shed.test"]).toBe("1");
    expect(c.Config.Image).toBe(image);
    expect(c.HostConfig.NanoCpus).toBe(1.5e9);
    expect(c.HostConfig.Memory).toBe(768 * 1024 * 1024);
    expect(c.HostConfig.Init).toBe(true);
    expect(volumeExists(name)).toBe(true);
    const list = await server.shedJson(["list"]);
    expect(list.sheds).toHaveLength(1);
    expect(list.sheds[0]).toMatchObject({ name, state: "running", backend: "docker", image, cpus: 1.5, memoryMb: 768 });
  },
  afterSnapshot(_server, snapshot) {
    // The committed image and the copy of the volume, both labelled with the snapshot (and as the test's).
    const images = sh(`docker images -q --filter label=shed.snapshot=${snapshot} --filter label=shed.test=1`).trim().split("\n").filter(Boolean);
    expect(images).toHaveLength(1);
    const volumes = sh(`docker volume ls -q --filter label=shed.snapshot=${snapshot} --filter label=shed.test=1`).trim().split("\n").filter(Boolean);
    expect(volumes).toEqual([`${namePrefix}snapshot-${snapshot}-workspace`]);
  },
  timeoutMs: 120_000,
};
