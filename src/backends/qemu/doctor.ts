import type { DoctorCheck, DoctorInput } from "../definition.ts";
import { kvmOpenable, knownKernels, probeKvm } from "./accel.ts";
import { defaultBinary } from "./command.ts";
import type { QemuSection } from "./section.ts";

const pass = (check: string, message: string): DoctorCheck => ({ check, status: "PASS", message });
const warn = (check: string, message: string, fix: string): DoctorCheck => ({ check, status: "WARN", message, fix });
const fail = (check: string, message: string, fix: string): DoctorCheck => ({ check, status: "FAIL", message, fix });

/** `shed-server doctor`'s qemu lines: QEMU, KVM (by booting a kernel), and the disk tools VM sheds need. */
export async function qemuDoctor(input: DoctorInput<QemuSection>): Promise<DoctorCheck[]> {
  return [checkQemu(input), await checkKvm(input), ...checkTools(input)];
}

function checkQemu({ section, enabled }: DoctorInput<QemuSection>): DoctorCheck {
  if (!enabled) return pass("qemu", "qemu backend not enabled (enabled_backends)");
  const binary = section.binary ?? defaultBinary();
  const path = Bun.which(binary);
  if (!path) return fail("qemu", `${binary} not found`, "apt-get install qemu-system-x86 (or set qemu.binary in server.yaml)");
  const out = Bun.spawnSync([path, "--version"], { stdout: "pipe", stderr: "pipe" });
  const version = out.stdout.toString().split("\n")[0]?.trim();
  if (out.exitCode !== 0) return fail("qemu", `${path} --version failed: ${out.stderr.toString().trim().slice(-200)}`, "reinstall QEMU (apt-get install --reinstall qemu-system-x86)");
  return pass("qemu", `${version} (${path})`);
}

/** KVM, decided the way the server decides: by booting a real Linux kernel under it. */
async function checkKvm({ section, enabled, stateDir, kvmTimeoutMs }: DoctorInput<QemuSection>): Promise<DoctorCheck> {
  if (!enabled) return pass("kvm", "not needed: no VM backend enabled");
  const setting = section.accel;
  if (setting === "tcg") return pass("kvm", "not used: qemu.accel is tcg (VMs run emulated)");
  // Forced KVM that does not work is an error; with auto it is a slower shed, not a broken one.
  const bad = (message: string, fix: string) =>
    setting === "kvm" ? fail("kvm", message, `${fix}; or set qemu.accel: auto`) : warn("kvm", `${message}; VMs run emulated under TCG (slow)`, fix);
  const open = kvmOpenable();
  if (!open.ok) {
    return bad(open.reason!, "enable hardware virtualization (firmware, or nested virtualization of the host VM) and load the kvm module");
  }
  const binary = section.binary ?? defaultBinary();
  if (!Bun.which(binary)) return bad(`cannot test KVM: ${binary} not found`, "apt-get install qemu-system-x86");
  const kernel = knownKernels(stateDir)[0];
  if (!kernel) {
    return warn("kvm", "/dev/kvm opens, but no Linux kernel is known yet to test it with (the first VM create tests it)", "build a guest image (make image-base) and run shed-server doctor again");
  }
  const result = await probeKvm(binary, kernel, kvmTimeoutMs);
  if (result.ok) return pass("kvm", `KVM boots a Linux kernel (${kernel}) to its init in ${((result.ms ?? 0) / 1000).toFixed(1)}s`);
  return bad(result.reason!, "fix the host's KVM (nested virtualization settings of the machine hosting it)");
}

function checkTools({ enabled }: DoctorInput<QemuSection>): DoctorCheck[] {
  const tool = (check: string, command: string, pkg: string, why: string): DoctorCheck => {
    if (Bun.which(command)) return pass(check, `${command} found (${why})`);
    if (!enabled) return pass(check, `${command} not found, not needed: no VM backend enabled`);
    return fail(check, `${command} not found (${why})`, `apt-get install ${pkg}`);
  };
  return [
    tool("erofs-utils", "mkfs.erofs", "erofs-utils", "image roots of VM sheds"),
    tool("e2fsprogs", "mkfs.ext4", "e2fsprogs", "writable disks of VM sheds"),
  ];
}
