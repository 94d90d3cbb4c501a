import { closeSync, existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import { runningPid, waitGone } from "../../proc/pid-file.ts";
import type { VzLayout } from "./command.ts";

/** vfkit's own stdout and stderr (one boot's worth), beside the console log. */
export function vfkitLogPath(layout: Pick<VzLayout, "dir">): string {
  return join(layout.dir, "vfkit.log");
}

/** What vfkit's REST API says of the VM (`GET /vm/state`): "VirtualMachineStateRunning", ... */
export async function vmState(restSocket: string, timeoutMs = 2000): Promise<string> {
  const res = await fetch("http://localhost/vm/state", { unix: restSocket, signal: AbortSignal.timeout(timeoutMs) } as RequestInit);
  if (!res.ok) throw new Error(`GET /vm/state answered ${res.status}`);
  return ((await res.json()) as { state: string }).state;
}

/** `POST /vm/state` with Stop (the guest's power button) or HardStop (VZ's stop: the plug pulled). vfkit answers 202. */
export async function changeVmState(restSocket: string, state: "Stop" | "HardStop", timeoutMs = 5000): Promise<void> {
  const res = await fetch("http://localhost/vm/state", {
    unix: restSocket,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ state }),
    signal: AbortSignal.timeout(timeoutMs),
  } as RequestInit);
  if (res.status !== 202) throw new Error(`POST /vm/state ${state} answered ${res.status}: ${(await res.text()).trim()}`);
}

/**
 * Starts vfkit detached (its own session: it outlives a restart or SIGKILL of the server),
 * its output in vfkit.log. vfkit writes its own pid file (--pidfile); returns once the REST API
 * says the VM runs. A vfkit that exits first (refused argument, VZ configuration error) fails
 * with its own words.
 */
export async function launchVfkit(binary: string, args: string[], layout: VzLayout, timeoutMs = 60_000): Promise<void> {
  for (const s of [layout.restSocket, layout.agentSocket, layout.pidFile]) rmSync(s, { force: true });
  const log = openSync(vfkitLogPath(layout), "w", 0o600);
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn([binary, ...args], {
      cwd: "/",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/", LANG: "C" },
      detached: true,
      stdio: ["ignore", log, log],
    } as never);
  } catch (err) {
    throw new ShedError("BACKEND_UNAVAILABLE", `cannot run vfkit (${binary}): ${(err as Error).message}; brew install vfkit, or set vz.vfkit_path in server.yaml`, {
      cause: err,
    });
  } finally {
    closeSync(log);
  }
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode) {
      const said = readFileSync(vfkitLogPath(layout), "utf8").trim().split("\n").filter(Boolean).at(-1) ?? "";
      throw new ShedError("BACKEND_UNAVAILABLE", `vfkit exited (${proc.exitCode ?? proc.signalCode}) before the VM ran: ${said || "no output"} (log: ${vfkitLogPath(layout)})`);
    }
    if (existsSync(layout.restSocket)) {
      try {
        last = await vmState(layout.restSocket);
        if (last === "VirtualMachineStateRunning") break;
      } catch (err) {
        last = (err as Error).message;
      }
    }
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new ShedError("TIMEOUT", `vfkit did not report the VM running within ${timeoutMs / 1000}s (last: ${last || "no REST socket"})`);
    }
    await Bun.sleep(50);
  }
  proc.unref();
}

/**
 * Ends vfkit: the REST API's Stop (a clean guest power-off) until `deadline`, then HardStop,
 * then SIGTERM (vfkit asks the guest again and forces it after 5 s), then SIGKILL.
 */
export async function stopVfkit(layout: VzLayout, deadline: number, say: (msg: string, extra?: Record<string, unknown>) => void): Promise<void> {
  const gone = (ms: number) => waitGone(layout.pidFile, layout.dir, Math.max(0, ms));
  try {
    await changeVmState(layout.restSocket, "Stop");
    if (await gone(deadline - Date.now())) return;
    say("VM did not power off in time; HardStop");
  } catch (err) {
    say("REST Stop failed", { error: String(err) });
  }
  try {
    await changeVmState(layout.restSocket, "HardStop");
    if (await gone(3000)) return;
  } catch (err) {
    say("REST HardStop failed", { error: String(err) });
  }
  const pid = runningPid(layout.pidFile, layout.dir);
  if (pid) process.kill(pid, "SIGTERM");
  if (await gone(7000)) return;
  const still = runningPid(layout.pidFile, layout.dir);
  if (still) process.kill(still, "SIGKILL");
  await gone(5000);
}
