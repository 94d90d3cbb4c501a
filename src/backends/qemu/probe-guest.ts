import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpioArchive } from "../../../guest/build/cpio.ts";
import { type Accel, SANDBOX } from "./command.ts";

/**
 * The guest that decides whether KVM works: a real Linux kernel (the one sheds boot) on the
 * machine sheds use, with a one-file initramfs whose /init proves userspace ran. A boot
 * sector is not enough: on a nested host a real-mode program runs under KVM while Linux hangs
 * right after "Probing EDD".
 *
 * /init is a 219-byte static x86-64 ELF (position independent, no libc):
 *   write(1, "shed-kvm-probe: init ran\n", 25)     the console marker
 *   ioperm(0xf4, 1, 1); outb 0x31, 0xf4           isa-debug-exit: QEMU exits with 99
 *   reboot(POWER_OFF); jmp .                      when the exit port is missing
 */
const INIT_CODE = [
  [0xb8, 0x01, 0x00, 0x00, 0x00], // mov eax, 1 (write)
  [0xbf, 0x01, 0x00, 0x00, 0x00], // mov edi, 1
  [0x48, 0x8d, 0x35, 0x39, 0x00, 0x00, 0x00], // lea rsi, [rip+0x39] (the message)
  [0xba, 0x19, 0x00, 0x00, 0x00], // mov edx, 25
  [0x0f, 0x05], // syscall
  [0xb8, 0xad, 0x00, 0x00, 0x00], // mov eax, 173 (ioperm)
  [0xbf, 0xf4, 0x00, 0x00, 0x00], // mov edi, 0xf4
  [0xbe, 0x01, 0x00, 0x00, 0x00], // mov esi, 1
  [0xba, 0x01, 0x00, 0x00, 0x00], // mov edx, 1
  [0x0f, 0x05], // syscall
  [0xb0, 0x31], // mov al, 0x31
  [0xe6, 0xf4], // out 0xf4, al
  [0xb8, 0xa9, 0x00, 0x00, 0x00], // mov eax, 169 (reboot)
  [0xbf, 0xad, 0xde, 0xe1, 0xfe], // mov edi, LINUX_REBOOT_MAGIC1
  [0xbe, 0x69, 0x19, 0x12, 0x28], // mov esi, LINUX_REBOOT_MAGIC2
  [0xba, 0xdc, 0xfe, 0x21, 0x43], // mov edx, LINUX_REBOOT_CMD_POWER_OFF
  [0x0f, 0x05], // syscall
  [0xeb, 0xfe], // jmp .
].flat();
export const PROBE_MARKER = "shed-kvm-probe: init ran";
/** isa-debug-exit turns the byte 0x31 into QEMU's exit status (0x31 << 1) | 1. */
export const PROBE_EXIT = 99;

/** An ELF64 executable: header, one PT_LOAD program header, then code and message. */
function initElf(): Uint8Array {
  const code = [...INIT_CODE, ...new TextEncoder().encode(`${PROBE_MARKER}\n`)];
  const base = 0x400000;
  const headers = 64 + 56;
  const size = headers + code.length;
  const buf = new ArrayBuffer(size);
  const v = new DataView(buf);
  new Uint8Array(buf).set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // ELF, 64-bit, little endian, v1
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 0x3e, true); // x86-64
  v.setUint32(20, 1, true);
  v.setBigUint64(24, BigInt(base + headers), true); // entry
  v.setBigUint64(32, 64n, true); // program headers right after this header
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, 1, true);
  v.setUint32(64, 1, true); // PT_LOAD
  v.setUint32(68, 5, true); // R + X
  v.setBigUint64(80, BigInt(base), true); // vaddr
  v.setBigUint64(88, BigInt(base), true); // paddr
  v.setBigUint64(96, BigInt(size), true); // filesz
  v.setBigUint64(104, BigInt(size), true); // memsz
  v.setBigUint64(112, 0x1000n, true);
  new Uint8Array(buf).set(code, headers);
  return new Uint8Array(buf);
}

/** The initramfs: /dev/console (so /init has stdout) and /init. */
export function probeInitramfs(): Uint8Array {
  return cpioArchive([
    { type: "dir", path: "dev" },
    { type: "char", path: "dev/console", major: 5, minor: 1 },
    { type: "file", path: "init", data: initElf(), mode: 0o755 },
  ]);
}

export interface ProbeOutcome {
  ok: boolean;
  /** Why not, in words a user can act on. */
  reason?: string;
  /** How long the guest took to reach /init (ms), when it did. */
  ms?: number;
}

/**
 * Boots `kernel` with the probe initramfs under `accel` on the machine type sheds use (q35,
 * `-cpu host` under KVM); ok when /init reached the exit port before `timeoutMs`.
 */
export async function bootProbe(binary: string, accel: Accel, kernel: string, timeoutMs: number): Promise<ProbeOutcome> {
  const dir = mkdtempSync(join(tmpdir(), "shed-kvm-probe-"));
  const initrd = join(dir, "probe.cpio");
  writeFileSync(initrd, probeInitramfs());
  const started = Date.now();
  try {
    let proc: ReturnType<typeof Bun.spawn>;
    try {
      proc = Bun.spawn(
        [
          binary,
          ...["-accel", accel, "-machine", "q35", "-cpu", accel === "kvm" ? "host" : "max,la57=off", "-m", "256M", "-smp", "1"],
          ...["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"],
          ...["-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 panic=-1 quiet rdinit=/init"],
          ...["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-serial", "stdio"],
          // The kernel comes from an image: its QEMU is confined like a shed's (seccomp).
          ...["-sandbox", SANDBOX],
        ],
        { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
      );
    } catch (err) {
      return { ok: false, reason: `cannot run ${binary}: ${(err as Error).message}` };
    }
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    const [code, console, stderr] = await Promise.all([
      proc.exited,
      new Response(proc.stdout as ReadableStream).text(),
      new Response(proc.stderr as ReadableStream).text(),
    ]);
    clearTimeout(timer);
    const name = accel.toUpperCase();
    if (code === PROBE_EXIT && console.includes(PROBE_MARKER)) return { ok: true, ms: Date.now() - started };
    if (proc.signalCode === "SIGKILL") {
      const last = console.trim().split("\n").at(-1)?.trim();
      return {
        ok: false,
        reason: `a Linux kernel (${kernel}) did not boot under ${name} within ${Math.round(timeoutMs / 1000)}s${last ? ` (last console line: ${last.slice(0, 120)})` : " (no console output)"}: this host's ${name} hangs guests`,
      };
    }
    return {
      ok: false,
      reason: `a Linux kernel (${kernel}) under ${name} ended before its init ran (QEMU exit ${code}): ${(stderr.trim() || console.trim()).slice(-300) || "no output"}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
