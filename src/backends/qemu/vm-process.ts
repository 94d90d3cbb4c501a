import { existsSync, readFileSync } from "node:fs";

/** The pid file of a VM (written by launch.ts), and whether it still names this VM's QEMU. */
export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, "utf8").trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * The pid of this instance's QEMU if it runs. A pid alone can be reused after a reboot of the
 * host, so the process must also be QEMU with this instance's directory on its command line.
 */
export function runningPid(pidFile: string, marker: string): number | undefined {
  const pid = readPid(pidFile);
  if (!pid) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (!cmdline.includes(marker)) return undefined;
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // A zombie (state Z) has exited: only its parent has not reaped it yet.
    if (/\)\s+Z\s/.test(stat)) return undefined;
    return pid;
  } catch {
    return undefined;
  }
}

/** Resolves true when the process is gone, false at the deadline. */
export async function waitGone(pidFile: string, marker: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!runningPid(pidFile, marker)) return true;
    await Bun.sleep(100);
  }
  return !runningPid(pidFile, marker);
}

export function killVm(pidFile: string, marker: string, signal: NodeJS.Signals = "SIGKILL"): void {
  const pid = runningPid(pidFile, marker);
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch {}
}
