import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../../fs/atomic-file.ts";
import { type Logger, silentLogger } from "../../log/logger.ts";
import type { Accel } from "./command.ts";
import { bootProbe, type ProbeOutcome } from "./probe-guest.ts";

export type AccelSetting = "auto" | "kvm" | "tcg";

export interface AccelChoice {
  accel: Accel;
  /** Why KVM was not chosen (when it was not). */
  reason?: string;
}

/** How long a Linux kernel may take to reach its init under KVM (a working KVM needs ~1 s). */
export const KVM_PROBE_TIMEOUT_MS = 20_000;
/** How long a decision is kept: a day, and only for the same host kernel and QEMU binary. */
const CACHE_TTL_MS = 24 * 3600_000;

/**
 * Can KVM boot a Linux guest here? /dev/kvm existing is not enough: a nested host may offer a
 * /dev/kvm on which a boot sector runs but Linux hangs. So boot `kernel` (probe-guest.ts).
 */
export async function probeKvm(binary: string, kernel: string, timeoutMs = KVM_PROBE_TIMEOUT_MS): Promise<ProbeOutcome> {
  const open = kvmOpenable();
  // The probe's init is x86 code; elsewhere trust an openable /dev/kvm.
  if (!open.ok || process.arch !== "x64") return open;
  return bootProbe(binary, "kvm", kernel, timeoutMs);
}

export function kvmOpenable(): { ok: boolean; reason?: string } {
  if (!existsSync("/dev/kvm")) {
    return { ok: false, reason: "no /dev/kvm on this host (no hardware virtualization, or the kvm module is not loaded)" };
  }
  try {
    closeSync(openSync("/dev/kvm", "r+"));
    return { ok: true };
  } catch (err) {
    return {
      ok: false,
      reason: `cannot open /dev/kvm (${(err as NodeJS.ErrnoException).code}): run shed-server as root or add its user to the kvm group`,
    };
  }
}

/**
 * Kernels a probe can boot when no VM's kernel is at hand, best first: the guest kernels this
 * server already extracted from images (`<state>/qemu/boot/<digest>/vmlinuz`), then the host's
 * own Debian kernels in /boot.
 */
export function knownKernels(stateDir: string): string[] {
  const found: { path: string; mtime: number }[] = [];
  const bootCache = join(stateDir, "qemu", "boot");
  const add = (path: string) => {
    try {
      const st = statSync(path);
      if (st.isFile()) found.push({ path, mtime: st.mtimeMs });
    } catch {}
  };
  for (const dir of safeReaddir(bootCache)) add(join(bootCache, dir, "vmlinuz"));
  const guests = found.length;
  for (const file of safeReaddir("/boot")) if (file.startsWith("vmlinuz-")) add(join("/boot", file));
  const byAge = (a: { mtime: number }, b: { mtime: number }) => b.mtime - a.mtime;
  return [...found.slice(0, guests).sort(byAge), ...found.slice(guests).sort(byAge)].map((f) => f.path);
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export interface AcceleratorOptions {
  setting: AccelSetting;
  binary: string;
  /** Where the decision is kept across server starts. */
  cacheFile: string;
  /** Kernels to probe with when the caller has none (knownKernels). */
  kernels?: () => string[];
  logger?: Logger;
  /** Whether /dev/kvm can be opened (kvmOpenable by default). */
  device?: () => { ok: boolean; reason?: string };
  /** The KVM test: boot a kernel (probeKvm by default). */
  probe?: (binary: string, kernel: string) => Promise<ProbeOutcome>;
}

/**
 * The accelerator of a qemu backend for `accel: auto|kvm|tcg`. auto decides once by booting a
 * real kernel under KVM (the VM's own kernel at the first create, or a known one earlier) and
 * remembers the answer in `cacheFile` for a day (keyed by host kernel release and QEMU
 * binary), so a host with a hanging KVM pays the probe's deadline once, not on every create.
 * A VM that hangs under KVM later (kvm-fallback.ts) turns the choice into TCG the same way.
 */
export class Accelerator {
  private decided: Promise<AccelChoice> | undefined;

  constructor(private readonly opts: AcceleratorOptions) {}

  get setting(): AccelSetting {
    return this.opts.setting;
  }

  get logger(): Logger {
    return this.opts.logger ?? silentLogger;
  }

  /**
   * The accelerator to boot with. `kernel`: the kernel the caller is about to boot. Undefined
   * only for auto when nothing is decided yet and no kernel is known to decide with.
   */
  async choose(kernel?: string): Promise<AccelChoice | undefined> {
    const { setting } = this.opts;
    if (setting === "tcg") return { accel: "tcg", reason: "qemu.accel is tcg in server.yaml" };
    if (setting === "kvm") return { accel: "kvm" };
    if (this.decided) return this.decided;
    const cached = this.readCache();
    if (cached) return (this.decided = Promise.resolve(cached));
    const open = (this.opts.device ?? kvmOpenable)();
    // Not remembered: loading the kvm module or fixing permissions takes effect at once.
    if (!open.ok) return { accel: "tcg", reason: open.reason };
    const probeKernel = kernel ?? this.opts.kernels?.()[0];
    if (!probeKernel) return undefined;
    this.decided = (async () => {
      const result = await (this.opts.probe ?? probeKvm)(this.opts.binary, probeKernel);
      const choice: AccelChoice = result.ok ? { accel: "kvm" } : { accel: "tcg", reason: result.reason };
      this.remember(choice);
      return choice;
    })();
    return this.decided;
  }

  /** auto: a VM hung (or failed) under KVM, so TCG from now on, remembered like a probe's answer. */
  fallBack(reason: string): AccelChoice {
    const choice: AccelChoice = { accel: "tcg", reason };
    this.decided = Promise.resolve(choice);
    this.remember(choice);
    return choice;
  }

  private remember(choice: AccelChoice): void {
    this.logger.info("qemu accelerator", { accel: choice.accel, ...(choice.reason ? { reason: choice.reason } : {}) });
    writeAccelCache(this.opts.cacheFile, this.opts.binary, choice);
  }

  private readCache(): AccelChoice | undefined {
    try {
      const cached = JSON.parse(readFileSync(this.opts.cacheFile, "utf8")) as AccelChoice & { key: string; at: number };
      if (cached.key === cacheKey(this.opts.binary) && Date.now() - cached.at < CACHE_TTL_MS && (cached.accel === "kvm" || cached.accel === "tcg")) {
        return { accel: cached.accel, ...(cached.reason ? { reason: cached.reason } : {}) };
      }
    } catch {}
    return undefined;
  }
}

/** One decision, for tools that boot once (the QEMU bench): chooses with `kernel`, TCG when undecidable. */
export async function chooseAccel(setting: AccelSetting, binary: string, cacheFile: string, kernel: string): Promise<AccelChoice> {
  return (await new Accelerator({ setting, binary, cacheFile }).choose(kernel)) ?? { accel: "tcg", reason: "no kernel to test KVM with" };
}

/** Writes a decision as a probe on this host would have (also what tests seed a cache with). */
export function writeAccelCache(cacheFile: string, binary: string, choice: AccelChoice): void {
  try {
    mkdirSync(dirname(cacheFile), { recursive: true });
    writeFileAtomic(cacheFile, `${JSON.stringify({ ...choice, key: cacheKey(binary), at: Date.now() })}\n`);
  } catch {}
}

function cacheKey(binary: string): string {
  let release = "unknown";
  try {
    release = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  } catch {}
  return `${release}|${binary}|${binaryStamp(binary)}`;
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
