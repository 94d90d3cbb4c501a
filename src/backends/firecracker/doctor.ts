import type { DoctorCheck, DoctorInput } from "../definition.ts";
import { hostFacts, isolationUnavailable } from "../vm-network/index.ts";
import { chooseJailer } from "./jail.ts";
import { probeFirecracker } from "./probe.ts";
import type { FirecrackerSection } from "./section.ts";
import { firecrackerSetup } from "./setup.ts";
import { existsSync } from "node:fs";

/** `shed-server doctor`'s firecracker lines: the binary, KVM, the kernel, the VM network's tools. */
export async function firecrackerDoctor({ section, enabled, stateDir }: DoctorInput<FirecrackerSection>): Promise<DoctorCheck[]> {
  if (!enabled) return [{ check: "firecracker", status: "PASS", message: "firecracker backend not enabled (enabled_backends)" }];
  // Firecracker is optional: where it cannot run, detection takes the next backend, so a
  // missing binary or KVM is a WARN (and what setup would make does not matter here).
  const probe = await probeFirecracker(section);
  const kvm = existsSync("/dev/kvm");
  // Both lines always, so that doctor's list of checks is the same on every host.
  const checks: DoctorCheck[] = [
    probe.ok
      ? { check: "firecracker", status: "PASS", message: `${section.binary} answers --version` }
      : { check: "firecracker", status: "WARN", message: probe.reason ?? "unusable", fix: "install Firecracker v1.14.1 to /usr/local/bin (seed 002 step 2) or set firecracker.binary" },
    kvm
      ? { check: "firecracker-kvm", status: "PASS", message: "/dev/kvm is present" }
      : { check: "firecracker-kvm", status: "WARN", message: "/dev/kvm is missing: Firecracker needs KVM", fix: "enable virtualization (or nested virtualization) for this host; add the user to the kvm group" },
  ];
  if (!probe.ok || !kvm) return checks;
  if (chooseJailer(section).jailed) {
    const jailer = Bun.which(section.jailer_binary);
    checks.push(
      jailer
        ? { check: "firecracker-jailer", status: "PASS", message: `jailed as ${section.jailer_uid}:${section.jailer_gid} in ${section.chroot_base_dir} by ${jailer}` }
        : { check: "firecracker-jailer", status: "FAIL", message: `firecracker.jailer is on but ${section.jailer_binary} is not found`, fix: "install Firecracker's jailer beside it (seed 002 step 2), set firecracker.jailer_binary, or jailer: false" },
    );
  }
  if (section.kernel_path) {
    checks.push(
      existsSync(section.kernel_path)
        ? { check: "firecracker-kernel", status: "PASS", message: `kernel ${section.kernel_path}` }
        : { check: "firecracker-kernel", status: "FAIL", message: `firecracker.kernel_path ${section.kernel_path} does not exist`, fix: "make kernel-fc, then point kernel_path at the vmlinux" },
    );
  }
  if (section.network === "isolated") {
    const why = isolationUnavailable(hostFacts());
    if (why) checks.push({ check: "firecracker-network", status: "FAIL", message: why, fix: "run as root (or CAP_NET_ADMIN) with ip, nft and dnsmasq, or set firecracker.network: none" });
    // Host directories are served over 9P by diod: without it only --local-dir and --add-dir fail.
    const diod = Bun.which(section.diod_binary);
    checks.push(
      diod
        ? { check: "firecracker-9p", status: "PASS", message: `9P server for host directories: ${diod}` }
        : { check: "firecracker-9p", status: "WARN", message: `${section.diod_binary} not found: --local-dir, --add-dir and directory mounts fail`, fix: "install diod (Debian: apt-get install diod) or set firecracker.diod_binary" },
    );
  }
  // What `shed-server setup` would make: each missing piece is a WARN (the server makes the network itself at the first boot).
  try {
    const steps = await firecrackerSetup({ section, stateDir, serverId: "", dryRun: true, serverBinary: undefined });
    for (const s of steps) {
      if (s.step === "capability" && process.getuid?.() === 0) continue;
      checks.push(
        s.status === "present"
          ? { check: `firecracker-${s.step}`, status: "PASS", message: s.detail }
          : { check: `firecracker-${s.step}`, status: "WARN", message: `missing: ${s.detail}`, fix: "shed-server setup (--dry-run shows each step)" },
      );
    }
  } catch (err) {
    checks.push({ check: "firecracker-setup", status: "WARN", message: (err as Error).message, fix: "shed-server setup --dry-run" });
  }
  return checks;
}
