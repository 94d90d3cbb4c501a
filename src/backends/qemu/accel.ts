import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Accel } from "./command.ts";

export interface AccelChoice {
  accel: Accel;
  /** Why KVM was not chosen (when it was not). */
  reason?: string;
}

/**
 * A 512-byte boot sector: `mov al, 0x31; out 0xf4, al; hlt`. With QEMU's isa-debug-exit
 * device at port 0xf4 it ends QEMU with exit code (0x31 << 1) | 1 = 99: proof that a guest
 * really ran under the accelerator, not only that /dev/kvm opened.
 */
function bootSector(): Uint8Array {
  const b = new Uint8Array(512);
  b.set([0xb0, 0x31, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd], 0);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}
const PROBE_EXIT = 99;

/**
 * Can KVM boot a guest here? /dev/kvm existing is not enough: a nested host may offer a
 * /dev/kvm on which guests hang. So boot the tiny program above, with a deadline.
 */
export async function probeKvm(binary: string, timeoutMs = 8000): Promise<{ ok: boolean; reason?: string }> {
  if (process.arch !== "x64") {
    // The probe program is x86 code; elsewhere trust an openable /dev/kvm.
    return kvmOpenable();
  }
  const open = kvmOpenable();
  if (!open.ok) return open;
  return bootProbe(binary, "kvm", timeoutMs);
}

/** Boots the probe program under `accel`; ok when it ran to its exit port in time. */
export async function bootProbe(binary: string, accel: Accel, timeoutMs: number): Promise<{ ok: boolean; reason?: string }> {
  const dir = join(tmpdir(), `shed-kvm-probe-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const disk = join(dir, "boot.img");
  writeFileSync(disk, bootSector());
  try {
    const proc = Bun.spawn(
      [
        binary,
        "-accel",
        accel,
        "-machine",
        "pc",
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-m",
        "16M",
        "-device",
        "isa-debug-exit,iobase=0xf4,iosize=0x04",
        "-drive",
        `file=${disk},format=raw,if=ide`,
      ],
      { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
    );
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    clearTimeout(timer);
    if (code === PROBE_EXIT) return { ok: true };
    if (proc.signalCode === "SIGKILL") {
      return { ok: false, reason: `a test guest under ${accel.toUpperCase()} did not finish within ${timeoutMs / 1000}s (a nested or broken KVM)` };
    }
    return { ok: false, reason: `a test guest under ${accel.toUpperCase()} failed (exit ${code}): ${stderr.trim().slice(-300)}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function kvmOpenable(): { ok: boolean; reason?: string } {
  if (!existsSync("/dev/kvm")) return { ok: false, reason: "no /dev/kvm on this host" };
  try {
    closeSync(openSync("/dev/kvm", "r+"));
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `cannot open /dev/kvm (${(err as NodeJS.ErrnoException).code}): add this user to the kvm group` };
  }
}

/**
 * The accelerator for `accel: auto|kvm|tcg`. auto probes KVM once and remembers the answer in
 * `cacheFile` for a day (keyed by kernel release and QEMU binary), so a server start on a host
 * with a hanging KVM pays the probe's deadline once, not on every create.
 */
export async function chooseAccel(
  setting: "auto" | "kvm" | "tcg",
  binary: string,
  cacheFile: string,
  probe: (binary: string) => Promise<{ ok: boolean; reason?: string }> = probeKvm,
): Promise<AccelChoice> {
  if (setting === "tcg") return { accel: "tcg", reason: "qemu.accel is tcg in server.yaml" };
  if (setting === "kvm") return { accel: "kvm" };
  const key = `${readFileSync("/proc/sys/kernel/osrelease", "utf8").trim()}|${binary}|${binaryStamp(binary)}`;
  try {
    const cached = JSON.parse(readFileSync(cacheFile, "utf8")) as AccelChoice & { key: string; at: number };
    if (cached.key === key && Date.now() - cached.at < 24 * 3600_000) return { accel: cached.accel, reason: cached.reason };
  } catch {}
  const result = await probe(binary);
  const choice: AccelChoice = result.ok ? { accel: "kvm" } : { accel: "tcg", reason: result.reason };
  try {
    writeFileSync(cacheFile, `${JSON.stringify({ ...choice, key, at: Date.now() })}\n`);
  } catch {}
  return choice;
}

function binaryStamp(binary: string): string {
  for (const dir of binary.includes("/") ? [""] : (process.env.PATH ?? "").split(":")) {
    const path = dir ? join(dir, binary) : binary;
    try {
      const st = statSync(path);
      return `${st.size}-${Math.floor(st.mtimeMs)}`;
    } catch {}
  }
  return "missing";
}
