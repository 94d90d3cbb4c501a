import { statSync } from "node:fs";
import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import type { Accelerator } from "./accel.ts";
import type { Accel } from "./command.ts";

/**
 * A VM under KVM that prints nothing on its console for this long is taken as hung. A guest
 * under a working KVM reaches its initramfs (which prints) in one or two seconds; on a host
 * whose KVM hangs guests, Linux stops before its first console line and never goes on.
 */
export const KVM_SILENCE_MS = 20_000;

export interface WatchedBoot {
  accel: Accel;
  /** The shed, for messages. */
  name: string;
  /** The VM's console log (appended to by QEMU). */
  console: string;
  /** Starts QEMU (resolves once it runs detached). */
  launch: () => Promise<unknown>;
  running: () => boolean;
  /** Ends the VM and waits until it is gone. */
  stop: () => Promise<unknown>;
  progress: Progress;
  silenceMs?: number;
}

/**
 * Launches a VM and, under KVM, watches that its console starts to speak. With `accel: auto`
 * a VM that stays silent (or a QEMU that KVM does not let start) is stopped, the reason goes
 * to the log and the progress, the accelerator turns to TCG for good, and this returns true:
 * boot it again (the caller's next boot gets TCG). With `accel: kvm` forced it fails instead.
 */
export async function launchWatchingKvm(accelerator: Accelerator, boot: WatchedBoot): Promise<boolean> {
  const watched = boot.accel === "kvm";
  const auto = accelerator.setting === "auto";
  const before = sizeOf(boot.console);
  try {
    await boot.launch();
  } catch (err) {
    // Only KVM's own failures ("Could not access KVM kernel module", "failed to initialize kvm").
    if (!watched || !auto || !/KVM kernel module|failed to initialize kvm|-accel kvm:/.test((err as Error).message)) throw err;
    return fallBack(accelerator, boot, `QEMU could not start a VM under KVM (${(err as Error).message})`);
  }
  if (!watched) return false;
  const silenceMs = boot.silenceMs ?? KVM_SILENCE_MS;
  if (!(await staysSilent(boot, before, silenceMs))) return false;
  await boot.stop();
  const why = `the VM of shed "${boot.name}" printed nothing on its console within ${Math.round(silenceMs / 1000)}s under KVM: this host's KVM hangs guests`;
  if (!auto) {
    accelerator.logger.error("VM hung under KVM", { name: boot.name, reason: why });
    throw new ShedError(
      "BACKEND_UNAVAILABLE",
      `${why}. qemu.accel is kvm in server.yaml, so shed does not fall back: set qemu.accel to auto (TCG when KVM hangs) or tcg`,
    );
  }
  return fallBack(accelerator, boot, why);
}

function fallBack(accelerator: Accelerator, boot: WatchedBoot, why: string): true {
  accelerator.logger.warn("KVM unusable for VMs: booting again under TCG, and from now on", { name: boot.name, reason: why });
  boot.progress({ id: "vm", status: `${why}; stopped it, booting again under TCG (remembered for later VMs)` });
  accelerator.fallBack(why);
  return true;
}

/** True when the console did not grow past `before` for `ms` while the VM ran. */
async function staysSilent(boot: WatchedBoot, before: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (sizeOf(boot.console) > before) return false;
    // A VM that ended is the boot's own failure (its console says why), not a hang.
    if (!boot.running()) return false;
    await Bun.sleep(200);
  }
  return sizeOf(boot.console) <= before && boot.running();
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
