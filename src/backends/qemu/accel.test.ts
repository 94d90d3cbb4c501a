import { mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/harness/temp-dir.ts";
import { Accelerator, type AcceleratorOptions, knownKernels } from "./accel.ts";
import type { ProbeOutcome } from "./probe-guest.ts";

const tempDir = useTempDirs();

/**
 * The decision logic around the KVM test. The test itself (a kernel booted under KVM) is the
 * boundary replaced here: /dev/kvm and a working KVM do not exist on these machines. The real
 * probe guest is booted in test/qemu/kvm-fallback.test.ts.
 */
function accelerator(opts: Partial<AcceleratorOptions> & { cacheFile: string }) {
  const probes: string[] = [];
  const outcome: ProbeOutcome = { ok: true };
  const acc = new Accelerator({
    setting: "auto",
    binary: "qemu-system-x86_64",
    device: () => ({ ok: true }),
    probe: async (_binary, kernel) => {
      probes.push(kernel);
      return outcome;
    },
    ...opts,
  });
  return { acc, probes, outcome };
}

describe("accelerator choice", () => {
  it("tcg and kvm in the config are taken as they are, without a probe", async () => {
    const cacheFile = join(tempDir("accel"), "accel.json");
    const never = async (): Promise<ProbeOutcome> => {
      throw new Error("must not probe");
    };
    expect(await new Accelerator({ setting: "tcg", binary: "q", cacheFile, probe: never }).choose("/k")).toEqual({
      accel: "tcg",
      reason: "qemu.accel is tcg in server.yaml",
    });
    expect(await new Accelerator({ setting: "kvm", binary: "q", cacheFile, probe: never }).choose("/k")).toEqual({ accel: "kvm" });
  });

  it("auto without an openable /dev/kvm: TCG at once with the reason, not remembered", async () => {
    const cacheFile = join(tempDir("accel"), "accel.json");
    const { acc, probes } = accelerator({ cacheFile, device: () => ({ ok: false, reason: "no /dev/kvm on this host" }) });
    expect(await acc.choose("/k")).toEqual({ accel: "tcg", reason: "no /dev/kvm on this host" });
    expect(probes).toEqual([]);
    expect(() => readFileSync(cacheFile)).toThrow();
  });

  it("auto with /dev/kvm but no kernel known yet is undecided, then decides with the first VM's kernel", async () => {
    const cacheFile = join(tempDir("accel"), "accel.json");
    const { acc, probes } = accelerator({ cacheFile, kernels: () => [] });
    expect(await acc.choose()).toBeUndefined();
    expect(await acc.choose("/guest/vmlinuz")).toEqual({ accel: "kvm" });
    expect(await acc.choose("/other/vmlinuz")).toEqual({ accel: "kvm" });
    expect(probes).toEqual(["/guest/vmlinuz"]);
    // A new server start reads the answer instead of probing again.
    const again = accelerator({ cacheFile });
    expect(await again.acc.choose("/guest/vmlinuz")).toEqual({ accel: "kvm" });
    expect(again.probes).toEqual([]);
  });

  it("auto probes with a known kernel when the caller has none", async () => {
    const cacheFile = join(tempDir("accel"), "accel.json");
    const { acc, probes } = accelerator({ cacheFile, kernels: () => ["/state/qemu/boot/x/vmlinuz"] });
    expect(await acc.choose()).toEqual({ accel: "kvm" });
    expect(probes).toEqual(["/state/qemu/boot/x/vmlinuz"]);
  });

  it("a kernel that does not boot under KVM means TCG, with the probe's reason, remembered", async () => {
    const cacheFile = join(tempDir("accel"), "accel.json");
    const { acc, probes, outcome } = accelerator({ cacheFile });
    Object.assign(outcome, { ok: false, reason: "a Linux kernel (/k) did not boot under KVM within 20s" });
    const concurrent = await Promise.all([acc.choose("/k"), acc.choose("/k")]);
    expect(concurrent).toEqual([
      { accel: "tcg", reason: "a Linux kernel (/k) did not boot under KVM within 20s" },
      { accel: "tcg", reason: "a Linux kernel (/k) did not boot under KVM within 20s" },
    ]);
    expect(probes).toHaveLength(1);
    expect(await accelerator({ cacheFile }).acc.choose("/k")).toEqual(concurrent[0]);
  });

  it("a fallback after a hung VM turns a KVM choice into TCG for this and later servers", async () => {
    const cacheFile = join(tempDir("accel"), "accel.json");
    const { acc } = accelerator({ cacheFile });
    expect(await acc.choose("/k")).toEqual({ accel: "kvm" });
    acc.fallBack("the VM of shed \"a\" printed nothing");
    expect(await acc.choose("/k")).toEqual({ accel: "tcg", reason: "the VM of shed \"a\" printed nothing" });
    const later = accelerator({ cacheFile });
    expect(await later.acc.choose("/k")).toEqual({ accel: "tcg", reason: "the VM of shed \"a\" printed nothing" });
    expect(later.probes).toEqual([]);
  });

  it("a cache from another QEMU binary is not used", async () => {
    const cacheFile = join(tempDir("accel"), "accel.json");
    accelerator({ cacheFile }).acc.fallBack("hung");
    const other = accelerator({ cacheFile, binary: "/opt/other-qemu" });
    expect(await other.acc.choose("/k")).toEqual({ accel: "kvm" });
    expect(other.probes).toEqual(["/k"]);
  });

  it("known kernels: the guest kernels of this state dir first (newest first), then the host's", () => {
    const state = tempDir("state");
    for (const [digest, age] of [["sha256-old", 100], ["sha256-new", 10]] as const) {
      mkdirSync(join(state, "qemu", "boot", digest), { recursive: true });
      const file = join(state, "qemu", "boot", digest, "vmlinuz");
      writeFileSync(file, "kernel");
      const t = Date.now() / 1000 - age;
      utimesSync(file, t, t);
    }
    mkdirSync(join(state, "qemu", "boot", "sha256-empty"));
    const kernels = knownKernels(state);
    expect(kernels.slice(0, 2)).toEqual([
      join(state, "qemu", "boot", "sha256-new", "vmlinuz"),
      join(state, "qemu", "boot", "sha256-old", "vmlinuz"),
    ]);
    expect(kernels.slice(2).every((k) => k.startsWith("/boot/vmlinuz-"))).toBe(true);
  });
});
