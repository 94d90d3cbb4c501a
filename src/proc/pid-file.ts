import { existsSync, readFileSync } from "node:fs";

/**
 * Detached processes a server started and finds again after its own restart (a VM's QEMU,
 * a test backend's agent): a pid file, and a marker that must be on the process's command
 * line, because a pid alone can be reused.
 */

/** The pid in a pid file (written atomically by whoever started the process). */
export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, "utf8").trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * The pid of the process if it runs. A pid alone can be reused after a reboot of the host, so
 * the process must also have `marker` (e.g. its instance's directory) on its command line.
 */
export function runningPid(pidFile: string, marker: string): number | undefined {
  const pid = readPid(pidFile);
  if (!pid) return undefined;
  if (!HAS_PROC) return psRunning(pid, marker);
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

const HAS_PROC = existsSync("/proc/self/cmdline");

/** macOS has no /proc: ps says the state and command line (a zombie's state starts with Z). */
function psRunning(pid: number, marker: string): number | undefined {
  const p = Bun.spawnSync(["ps", "-o", "stat=", "-o", "command=", "-p", String(pid)], { stdout: "pipe", stderr: "ignore" });
  const line = p.stdout.toString().trim();
  if (p.exitCode !== 0 || !line || line.startsWith("Z") || !line.includes(marker)) return undefined;
  return pid;
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

/** Sends `signal` to the process of the pid file, if it is still that process. */
export function killByPidFile(pidFile: string, marker: string, signal: NodeJS.Signals = "SIGKILL"): void {
  const pid = runningPid(pidFile, marker);
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch {}
}
