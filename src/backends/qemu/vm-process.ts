import { existsSync, readFileSync, rmSync } from "node:fs";
import { ShedError } from "../../api/errors.ts";

/**
 * The QEMU process of a VM. QEMU daemonizes itself (-daemonize): it leaves the server's
 * session, writes its pid file once the VM is set up, and then the launcher exits, so setup
 * errors still reach us on stderr while the VM survives a restart (or SIGKILL) of the server.
 */
export async function launchVm(binary: string, args: string[], pidFile: string): Promise<number> {
  rmSync(pidFile, { force: true });
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn([binary, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  } catch (err) {
    throw new ShedError(
      "BACKEND_UNAVAILABLE",
      `cannot run ${binary}: ${(err as Error).message}; install QEMU (apt-get install qemu-system-x86) or set qemu.binary in server.yaml`,
      { cause: err },
    );
  }
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr as ReadableStream).text()]);
  if (code !== 0) {
    throw new ShedError("BACKEND_UNAVAILABLE", `QEMU failed to start the VM (exit ${code}): ${stderr.trim().slice(-800)}`);
  }
  const pid = readPid(pidFile);
  if (!pid) throw new ShedError("INTERNAL", `QEMU started but wrote no pid to ${pidFile}`);
  return pid;
}

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
