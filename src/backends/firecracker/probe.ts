import type { ProbeResult } from "../backend.ts";
import type { FirecrackerSection } from "./section.ts";

/** Whether sheds can run: the firecracker binary answers --version, and /dev/kvm is there. */
export async function probeFirecracker(section: FirecrackerSection): Promise<ProbeResult> {
  const path = Bun.which(section.binary);
  if (!path) return { ok: false, reason: `${section.binary} not found: install Firecracker (seed 002) or set firecracker.binary in server.yaml` };
  const out = Bun.spawnSync([path, "--version"], { stdout: "pipe", stderr: "pipe" });
  if (out.exitCode !== 0) return { ok: false, reason: `${path} --version failed: ${out.stderr.toString().trim().slice(-200)}` };
  return { ok: true };
}
