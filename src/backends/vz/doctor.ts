import type { DoctorCheck, DoctorInput } from "../definition.ts";
import type { VzSection } from "./section.ts";

/** `shed-server doctor`'s vz lines: vfkit present and answering, and the disk tool VM sheds need. */
export async function vzDoctor({ section, enabled }: DoctorInput<VzSection>): Promise<DoctorCheck[]> {
  if (!enabled) return [{ check: "vfkit", status: "PASS", message: "vz backend not enabled (enabled_backends)" }];
  const binary = section.vfkit_path ?? "vfkit";
  const path = Bun.which(binary);
  const checks: DoctorCheck[] = [];
  if (!path) checks.push({ check: "vfkit", status: "FAIL", message: `${binary} not found`, fix: "brew install vfkit (or set vz.vfkit_path in server.yaml)" });
  else {
    const out = Bun.spawnSync([path, "--version"], { stdout: "pipe", stderr: "pipe" });
    const said = out.stdout.toString().trim() || out.stderr.toString().trim();
    checks.push(
      out.exitCode === 0
        ? { check: "vfkit", status: "PASS", message: `${said} (${path})` }
        : { check: "vfkit", status: "FAIL", message: `${path} --version failed: ${said.slice(-200)}`, fix: "reinstall vfkit (brew reinstall vfkit)" },
    );
  }
  const mkfs = Bun.which("mkfs.ext4") ?? Bun.which("mkfs.ext4", { PATH: "/usr/sbin:/sbin:/opt/homebrew/opt/e2fsprogs/sbin" });
  checks.push(mkfs ? { check: "mkfs.ext4", status: "PASS", message: mkfs } : { check: "mkfs.ext4", status: "FAIL", message: "mkfs.ext4 not found", fix: "brew install e2fsprogs" });
  return checks;
}
