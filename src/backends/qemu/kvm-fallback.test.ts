import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/harness/temp-dir.ts";
import { ShedError } from "../../api/errors.ts";
import { Accelerator, type AccelSetting } from "./accel.ts";
import type { Accel } from "./command.ts";
import { launchWatchingKvm } from "./kvm-fallback.ts";
import { killByPidFile, runningPid, waitGone } from "../../proc/pid-file.ts";

/**
 * The hung-KVM fallback against real QEMU processes. A KVM that hangs guests cannot be had
 * here, so it is replaced at the QEMU binary only: test/qemu/hung-kvm-qemu turns `-accel kvm`
 * into a VM whose CPUs never start (the guest prints nothing, as on a host whose KVM hangs
 * Linux). The guest is a boot sector that writes "ok" to the serial console and halts.
 */
const HUNG_KVM_QEMU = resolve(import.meta.dirname, "../../../test/qemu/hung-kvm-qemu");
const missing = !Bun.which("qemu-system-x86_64") || process.arch !== "x64" ? "needs qemu-system-x86_64 on x86_64" : undefined;
if (missing) console.warn(`skipped: the hung-KVM fallback tests ${missing}`);

const tempDir = useTempDirs();
const started: { pidFile: string; dir: string }[] = [];
afterEach(async () => {
  for (const vm of started.splice(0)) {
    killByPidFile(vm.pidFile, vm.dir);
    await waitGone(vm.pidFile, vm.dir, 5000);
  }
});

/** mov dx, 0x3f8; "ok\n" out to COM1; hlt forever. */
function bootSector(): Uint8Array {
  const b = new Uint8Array(512);
  b.set([0xba, 0xf8, 0x03, 0xb0, 0x6f, 0xee, 0xb0, 0x6b, 0xee, 0xb0, 0x0a, 0xee, 0xf4, 0xeb, 0xfd], 0);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

/** QEMU detached by itself (-daemonize), its setup errors thrown with what it printed, as shed's launcher does. */
async function launchDetached(binary: string, args: string[]): Promise<void> {
  const proc = Bun.spawn([binary, ...args], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new ShedError("BACKEND_UNAVAILABLE", `QEMU failed to start the VM (exit ${code}): ${stderr.trim()}`);
}

/** A detached VM like shed's (pid file, console file appended to), under `binary`. */
function vm(binary: string, accel: Accel) {
  const dir = tempDir("kvm-fallback");
  const disk = join(dir, "boot.img");
  writeFileSync(disk, bootSector());
  const console = join(dir, "console.log");
  writeFileSync(console, "=== shed: boot marker ===\n");
  const pidFile = join(dir, "qemu.pid");
  const args = [
    ...["-accel", accel, "-machine", "pc", "-m", "16M", "-nodefaults", "-no-user-config", "-display", "none"],
    ...["-drive", `file=${disk},format=raw,if=ide`, "-chardev", `file,id=console,path=${console},append=on`, "-serial", "chardev:console"],
    ...["-pidfile", pidFile, "-daemonize"],
  ];
  started.push({ pidFile, dir });
  return {
    console,
    pidFile,
    launch: () => launchDetached(binary, args),
    running: () => !!runningPid(pidFile, dir),
    stop: () => {
      killByPidFile(pidFile, dir);
      return waitGone(pidFile, dir, 5000);
    },
  };
}

function accelerator(setting: AccelSetting, cacheFile: string) {
  const warnings: string[] = [];
  const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error: (m: string) => warnings.push(m) };
  // The probe said yes (as it did on the hosts where this happened): what follows is the VM's boot.
  const acc = new Accelerator({ setting, binary: HUNG_KVM_QEMU, cacheFile, device: () => ({ ok: true }), probe: async () => ({ ok: true }), logger });
  return { acc, warnings };
}

describe.skipIf(missing)("hung-KVM fallback", () => {
  it("auto: a VM silent under KVM is stopped, TCG is remembered, and the VM boots again under TCG", async () => {
    const cacheFile = join(tempDir("cache"), "accel.json");
    const { acc, warnings } = accelerator("auto", cacheFile);
    expect(await acc.choose("/k")).toEqual({ accel: "kvm" });
    const progress: string[] = [];
    const hung = vm(HUNG_KVM_QEMU, "kvm");
    const retry = await launchWatchingKvm(acc, { ...hung, accel: "kvm", name: "vm1", progress: (p) => progress.push(p.status ?? ""), silenceMs: 3000 });
    console.log(`fallback: ${progress.join(" | ")}`);
    expect(retry).toBe(true);
    expect(hung.running()).toBe(false);
    expect(readFileSync(hung.console, "utf8")).toBe("=== shed: boot marker ===\n");
    const why = 'the VM of shed "vm1" printed nothing on its console within 3s under KVM: this host\'s KVM hangs guests';
    expect(progress).toEqual([`${why}; stopped it, booting again under TCG (remembered for later VMs)`]);
    expect(warnings).toEqual(["KVM unusable for VMs: booting again under TCG, and from now on"]);
    expect(await acc.choose("/k")).toEqual({ accel: "tcg", reason: why });
    expect(JSON.parse(readFileSync(cacheFile, "utf8"))).toMatchObject({ accel: "tcg", reason: why });

    // The caller's second boot, under TCG now: not watched, and the guest really runs.
    const tcg = vm(HUNG_KVM_QEMU, "tcg");
    expect(await launchWatchingKvm(acc, { ...tcg, accel: "tcg", name: "vm1", progress: () => {}, silenceMs: 3000 })).toBe(false);
    expect(tcg.running()).toBe(true);
    for (let i = 0; i < 100 && !readFileSync(tcg.console, "utf8").includes("ok"); i++) await Bun.sleep(100);
    expect(readFileSync(tcg.console, "utf8")).toContain("ok\n");
  });

  it("auto: a VM that speaks under KVM is left running", async () => {
    const { acc } = accelerator("auto", join(tempDir("cache"), "accel.json"));
    // The real QEMU under TCG plays a working KVM: its guest prints at once.
    const healthy = vm("qemu-system-x86_64", "tcg");
    expect(await launchWatchingKvm(acc, { ...healthy, accel: "kvm", name: "vm2", progress: () => {}, silenceMs: 30_000 })).toBe(false);
    expect(healthy.running()).toBe(true);
    expect(await acc.choose("/k")).toEqual({ accel: "kvm" });
  });

  it("kvm forced: a silent VM fails the boot clearly instead of falling back", async () => {
    const cacheFile = join(tempDir("cache"), "accel.json");
    const { acc } = accelerator("kvm", cacheFile);
    const hung = vm(HUNG_KVM_QEMU, "kvm");
    const err = await launchWatchingKvm(acc, { ...hung, accel: "kvm", name: "vm3", progress: () => {}, silenceMs: 2000 }).catch((e) => e);
    expect(err).toBeInstanceOf(ShedError);
    expect(err.code).toBe("BACKEND_UNAVAILABLE");
    expect(err.message).toBe(
      'the VM of shed "vm3" printed nothing on its console within 2s under KVM: this host\'s KVM hangs guests. ' +
        "qemu.accel is kvm in server.yaml, so shed does not fall back: set qemu.accel to auto (TCG when KVM hangs) or tcg",
    );
    expect(hung.running()).toBe(false);
    expect(await acc.choose("/k")).toEqual({ accel: "kvm" });
    expect(existsSync(cacheFile)).toBe(false);
  });

  it("auto: a launch that fails for another reason is that failure, not a fallback", async () => {
    const { acc } = accelerator("auto", join(tempDir("cache"), "accel.json"));
    const broken = vm("qemu-system-x86_64", "tcg");
    rmSync(join(broken.console, "..", "boot.img"));
    const err = await launchWatchingKvm(acc, { ...broken, accel: "kvm", name: "vm5", progress: () => {} }).catch((e) => e);
    expect(err.message).toMatch(/^QEMU failed to start the VM \(exit 1\): .*boot\.img/);
    expect(await acc.choose("/k")).toEqual({ accel: "kvm" });
  });

  it.skipIf(existsSync("/dev/kvm"))("auto: a QEMU that cannot start under KVM (no /dev/kvm) falls back too", async () => {
    const { acc } = accelerator("auto", join(tempDir("cache"), "accel.json"));
    const noKvm = vm("qemu-system-x86_64", "kvm");
    expect(await launchWatchingKvm(acc, { ...noKvm, accel: "kvm", name: "vm4", progress: () => {} })).toBe(true);
    const choice = await acc.choose("/k");
    expect(choice?.accel).toBe("tcg");
    expect(choice?.reason).toMatch(/^QEMU could not start a VM under KVM \(QEMU failed to start the VM \(exit 1\): .*kvm/i);
  });
});
