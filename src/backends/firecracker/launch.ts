import { closeSync, existsSync, openSync, rmSync } from "node:fs";
import { ShedError } from "../../api/errors.ts";
import { writeFileAtomic } from "../../fs/atomic-file.ts";
import { killByPidFile, runningPid, waitGone } from "../../proc/pid-file.ts";
import { consoleTail } from "../vm-boot/console-log.ts";
import { FirecrackerClient, type FirecrackerRequest } from "./api-client.ts";
import type { FirecrackerData } from "./instance-files.ts";
import { removeJail } from "./jail.ts";

/**
 * Starts `argv` (`firecracker --api-sock ... --id ...`, or the jailer that execs it in the same
 * process) detached from the server (its own session: it outlives a restart or SIGKILL of
 * shed-server), its stdout and stderr (the guest console and Firecracker's log) appended to
 * the console file, its pid in the pid file. Stale sockets go first (Firecracker refuses an
 * API socket path that exists). Returns the API client once the API answers.
 */
export async function launchFirecracker(argv: string[], data: FirecrackerData, onRequest: (r: FirecrackerRequest & { status: number }) => void): Promise<FirecrackerClient> {
  const binary = argv[0]!;
  rmSync(data.apiSocket, { force: true });
  rmSync(data.vsockSocket, { force: true });
  const out = openSync(data.console, "a", 0o600);
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn(argv, {
      cwd: data.dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C" },
      detached: true,
      stdio: ["ignore", out, out],
    } as never);
  } catch (err) {
    throw new ShedError(
      "BACKEND_UNAVAILABLE",
      `cannot run ${binary}: ${(err as Error).message}; install Firecracker and its jailer (seed 002: /usr/local/bin/firecracker) or set firecracker.binary (and jailer_binary, or jailer: false) in server.yaml`,
      { cause: err },
    );
  } finally {
    closeSync(out);
  }
  writeFileAtomic(data.pidFile, `${proc.pid}\n`, 0o600);
  const client = new FirecrackerClient(data.apiSocket, onRequest);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode) {
      throw new ShedError("BACKEND_UNAVAILABLE", `${data.jail ? "the jailer or Firecracker" : "Firecracker"} exited (${proc.exitCode ?? proc.signalCode}) before its API answered: ${consoleTail(data.console, 8)}`);
    }
    if (existsSync(data.apiSocket)) {
      try {
        await client.describe();
        break;
      } catch {}
    }
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new ShedError("BACKEND_UNAVAILABLE", `Firecracker's API did not answer on ${data.apiSocket} within 15 s: ${consoleTail(data.console, 8)}`);
    }
    await Bun.sleep(20);
  }
  proc.unref();
  return client;
}

type PidData = Pick<FirecrackerData, "pidFile" | "apiSocket" | "jail">;

/**
 * What a shed's Firecracker has on its command line: the API socket's path, or jailed (where
 * that is the jail's /run/firecracker.socket for all of them) its `--id`.
 */
function marker(data: PidData): string {
  return data.jail ? `--id\0${data.jail.id}\0` : data.apiSocket;
}

/** The running Firecracker of an instance (its pid file, its marker on its command line). */
export function firecrackerPid(data: PidData): number | undefined {
  return runningPid(data.pidFile, marker(data));
}

export function killFirecracker(data: PidData): void {
  killByPidFile(data.pidFile, marker(data), "SIGKILL");
}

export function waitFirecrackerGone(data: PidData, timeoutMs: number): Promise<boolean> {
  return waitGone(data.pidFile, marker(data), timeoutMs);
}

/**
 * The shed's Firecracker ended, whatever it was doing: SIGKILL (a no-op when it is already
 * gone), waited for (at most 5 s), then its jail and cgroups removed (the jail is made again
 * at the next boot; a cgroup goes only once its process has).
 */
export async function endFirecracker(data: PidData): Promise<void> {
  killFirecracker(data);
  await waitFirecrackerGone(data, 5000);
  if (data.jail) await removeJail(data.jail);
}
