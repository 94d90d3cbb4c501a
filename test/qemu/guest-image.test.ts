import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openLayout } from "../../src/oci/store/layout.ts";
import { baseImage, IMAGE_HOOK_MS } from "./guest-image.ts";

/**
 * The base recipe's image as built (debootstrap once per machine, cached by recipe hash):
 * an OCI layout of two layers with the boot files, the shed user, the agent and its units,
 * and no identity of its own. Checked from the layer tars, without booting.
 */
const lacking = ["debootstrap", "mkfs.erofs", "tar"].filter((c) => !Bun.which(c));
const agent = process.env.SHED_AGENT_PATH ?? join(import.meta.dirname, "../../dist/shed-agent");
const skip =
  process.getuid?.() !== 0 || lacking.length > 0 || !existsSync(agent)
    ? `skipped: building the guest image needs root, ${lacking.join(", ") || "its tools"} and ${agent}`
    : undefined;
if (skip) console.warn(skip);

describe.skipIf(skip)("guest image: recipe guest/base", () => {
  let layout: string;
  let name: string;
  let layers: string[];
  const dir = mkdtempSync(join(tmpdir(), "shed-guest-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const file = (layer: number, path: string): string => {
    const p = Bun.spawnSync(["tar", "-xOf", layers[layer]!, path], { stdout: "pipe", stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`${path} not in layer ${layer}: ${p.stderr}`);
    return p.stdout.toString();
  };
  const list = (layer: number): string[] =>
    Bun.spawnSync(["tar", "-tf", layers[layer]!], { stdout: "pipe" }).stdout.toString().split("\n");

  beforeAll(async () => {
    const image = await baseImage();
    layout = image.layout;
    name = image.name;
    const { manifest } = await openLayout(layout).resolve(name);
    layers = manifest.layers.map((l) => join(layout, "blobs", "sha256", l.digest.slice(7)));
  }, IMAGE_HOOK_MS);

  it("is an OCI layout: system layer + shed layer, boot paths in the config labels", async () => {
    const { manifest, config } = await openLayout(layout).resolve(name);
    expect(manifest.layers).toHaveLength(2);
    expect(manifest.layers.every((l) => l.mediaType === "application/vnd.oci.image.layer.v1.tar")).toBe(true);
    expect(config.config?.Labels).toMatchObject({
      "dev.shed.boot.kernel": "/boot/shed/vmlinuz",
      "dev.shed.boot.initrd": "/boot/shed/initrd.img",
      "dev.shed.recipe": "base",
    });
    expect(JSON.parse(readFileSync(join(layout, "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
  });

  it("carries the kernel, the initramfs and the agent with its units", () => {
    const shed = list(1);
    for (const path of [
      "boot/shed/vmlinuz",
      "boot/shed/initrd.img",
      "boot/shed/boot.json",
      "usr/lib/shed/shed-agent",
      "usr/lib/shed/firstboot",
      "etc/systemd/system/shed-agent.service",
      "etc/systemd/system/multi-user.target.wants/shed-agent.service",
      "etc/systemd/system/sysinit.target.wants/shed-firstboot.service",
      "usr/lib/shed/hostkeys",
      "etc/systemd/system/multi-user.target.wants/shed-hostkeys.service",
      "etc/ssh/sshd_config.d/shed-host-keys.conf",
    ]) {
      expect(shed).toContain(path);
    }
    const boot = JSON.parse(file(1, "boot/shed/boot.json"));
    expect(list(0).some((p) => p.startsWith(`usr/lib/modules/${boot.kernelRelease}/kernel/fs/erofs/`))).toBe(true);
  });

  it("has an initramfs with busybox, the shed init and the boot chain's modules", async () => {
    const initrd = join(dir, "initrd.img");
    const p = Bun.spawnSync(["tar", "-xOf", layers[1]!, "boot/shed/initrd.img"], { stdout: "pipe" });
    await Bun.write(initrd, p.stdout);
    const cpio = Bun.spawnSync(["sh", "-c", `cpio -it < ${initrd}`], { stdout: "pipe", stderr: "pipe" });
    const names = cpio.stdout.toString().split("\n");
    for (const name of ["init", "bin/busybox", "dev/console", "lib/modules/load-order"]) expect(names).toContain(name);
    for (const mod of ["virtio_blk.ko", "erofs.ko", "ext4.ko", "overlay.ko", "crc32c_generic.ko"]) {
      expect(names).toContain(`lib/modules/${mod}`);
    }
  });

  it("has no identity of its own and the shed user", () => {
    expect(file(0, "etc/machine-id")).toBe("");
    expect(list(0).filter((p) => p.startsWith("etc/ssh/ssh_host_"))).toEqual([]);
    expect(file(0, "etc/passwd")).toMatch(/^shed:x:1000:1000::\/home\/shed:\/bin\/bash$/m);
    expect(file(0, "etc/sudoers.d/shed")).toContain("shed ALL=(ALL) NOPASSWD:ALL");
  });
});
