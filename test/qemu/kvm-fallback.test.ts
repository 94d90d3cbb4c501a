import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeAccelCache } from "../../src/backends/qemu/accel.ts";
import { bootProbe } from "../../src/backends/qemu/probe-guest.ts";
import { startServer, type TestServer } from "../harness/index.ts";
import { baseImage, IMAGE_HOOK_MS, vmTestsMissing } from "./guest-image.ts";

/**
 * The KVM decision against real guests: the probe guest (the base image's own kernel with the
 * one-file initramfs) under TCG and under a KVM that hangs, and a qemu shed with accel: auto
 * whose first boot under KVM hangs and is booted again under TCG, answering exec.
 *
 * A KVM that hangs guests is replaced at the QEMU binary only (test/qemu/hung-kvm-qemu: for
 * `-accel kvm` the real QEMU under TCG with its CPUs never started). The shed's server starts
 * with the answer a probe gave on a host where KVM passed it (its accel cache says kvm), which
 * is where the boot-time fallback matters: everything after that is real.
 */
const skip = vmTestsMissing();
const HUNG_KVM_QEMU = resolve(import.meta.dirname, "hung-kvm-qemu");
const BOOT_MS = 600_000;

describe.skipIf(skip)("KVM that boots a kernel, or TCG", () => {
  let kernel: string;
  let server: TestServer | undefined;
  const stateDir = mkdtempSync(join(tmpdir(), "shed-kvm-fallback-"));

  beforeAll(async () => {
    const { layout, name } = await baseImage();
    // The image's kernel, straight from its shed layer (what the qemu backend extracts too).
    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
    const manifestDigest = index.manifests.find((m: any) => m.annotations?.["org.opencontainers.image.ref.name"] === name)?.digest ?? index.manifests[0].digest;
    const manifest = JSON.parse(readFileSync(join(layout, "blobs/sha256", manifestDigest.slice(7)), "utf8"));
    kernel = join(stateDir, "vmlinuz");
    for (const layer of [...manifest.layers].reverse()) {
      const r = Bun.spawnSync(["tar", "-xOf", join(layout, "blobs/sha256", layer.digest.slice(7)), "boot/shed/vmlinuz"], { stdout: "pipe", stderr: "ignore" });
      if (r.exitCode === 0 && r.stdout.byteLength > 0) {
        await Bun.write(kernel, r.stdout);
        break;
      }
    }
  }, IMAGE_HOOK_MS);

  afterAll(async () => {
    if (server) {
      await server.shed(["delete", "fb1", "--force"]).catch(() => {});
      await server.stop();
    }
    rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);

  it("the probe guest boots the guest kernel to its init under TCG", async () => {
    const r = await bootProbe("qemu-system-x86_64", "tcg", kernel, 120_000);
    console.log(`probe under TCG: ${JSON.stringify(r)}`);
    expect(r.ok).toBe(true);
  });

  it("under a KVM that hangs guests the probe says so, with the kernel and the deadline", async () => {
    const r = await bootProbe(HUNG_KVM_QEMU, "kvm", kernel, 5_000);
    console.log(`probe under a hanging KVM: ${JSON.stringify(r)}`);
    expect(r).toEqual({
      ok: false,
      reason: `a Linux kernel (${kernel}) did not boot under KVM within 5s (no console output): this host's KVM hangs guests`,
    });
  });

  it(
    "accel auto: a shed whose VM hangs under KVM is booted again under TCG and answers exec",
    async () => {
      const image = (await baseImage()).ref;
      const qemuState = join(stateDir, "state");
      writeAccelCache(join(qemuState, "qemu", "accel.json"), HUNG_KVM_QEMU, { accel: "kvm" });
      server = await startServer({
        config: {
          state_dir: qemuState,
          enabled_backends: ["qemu"],
          default_backend: "qemu",
          qemu: { accel: "auto", binary: HUNG_KVM_QEMU, default_cpus: 2, default_memory_mb: 1024, image_aliases: { base: image } },
        },
      });
      const info0 = (await (await fetch(`${server.url}/api/info`)).json()) as any;
      expect(info0.backends.find((b: any) => b.name === "qemu")).toMatchObject({ available: true });
      expect(info0.backends.find((b: any) => b.name === "qemu").emulated).toBeUndefined();

      const created = await server.shed(["create", "fb1", "--image", "base"], { timeoutMs: BOOT_MS });
      console.log(`create through the fallback:\n${created.stderr.trim()}`);
      expect(created.code, created.stdout + created.stderr).toBe(0);
      expect(created.stderr).toContain(
        'the VM of shed "fb1" printed nothing on its console within 20s under KVM: this host\'s KVM hangs guests; stopped it, booting again under TCG',
      );
      const exec = await server.shed(["exec", "fb1", "--", "sh", "-c", "echo up on $(hostname)"], { timeoutMs: 120_000 });
      expect(exec.code, exec.stderr).toBe(0);
      expect(exec.stdout).toBe("up on fb1\n");

      const console_ = readFileSync(join(qemuState, "qemu", "instances", "fb1", "console.log"), "utf8");
      const markers = console_.match(/=== shed: boot .* \(accel (kvm|tcg), /g) ?? [];
      expect(markers.map((m) => m.match(/accel (\w+)/)![1])).toEqual(["kvm", "tcg"]);
      const log = readFileSync(server.logPath, "utf8");
      expect(log).toContain('"msg":"KVM unusable for VMs: booting again under TCG, and from now on"');
      expect(JSON.parse(readFileSync(join(qemuState, "qemu", "accel.json"), "utf8"))).toMatchObject({ accel: "tcg" });

      // The choice is remembered: /api/info says why qemu is emulated now.
      const info = (await (await fetch(`${server.url}/api/info`)).json()) as any;
      const qemu = info.backends.find((b: any) => b.name === "qemu");
      console.log(`/api/info qemu after the fallback: ${JSON.stringify(qemu)}`);
      expect(qemu).toMatchObject({ available: true, emulated: true });
      expect(qemu.reason).toMatch(/^VMs run emulated under TCG \(slow\): the VM of shed "fb1" printed nothing on its console within 20s under KVM/);
    },
    BOOT_MS,
  );
});
