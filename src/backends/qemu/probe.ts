import type { ProbeResult } from "../backend.ts";
import type { Accelerator } from "./accel.ts";

/**
 * The qemu backend's probe: QEMU and mkfs.ext4 present, and whether its VMs run at full speed.
 * Emulated VMs work but are slow, so detection prefers any backend that is not emulated; KVM
 * counts only once a real kernel booted under it.
 */
export async function probeQemu(binary: string, accelerator: Accelerator): Promise<ProbeResult> {
  if (!Bun.which(binary)) return { ok: false, reason: `${binary} not found: apt-get install qemu-system-x86 (or set qemu.binary)` };
  if (!Bun.which("mkfs.ext4")) return { ok: false, reason: "mkfs.ext4 not found: apt-get install e2fsprogs" };
  const choice = await accelerator.choose();
  if (!choice) {
    return { ok: true, emulated: true, reason: "KVM is not tested yet: the first VM create tests it by booting its kernel (until then VMs count as emulated)" };
  }
  if (choice.accel === "tcg") return { ok: true, emulated: true, reason: `VMs run emulated under TCG (slow): ${choice.reason}` };
  return { ok: true };
}
