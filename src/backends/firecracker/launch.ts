import { closeSync, existsSync, openSync, rmSync } from "node:fs";
import { ShedError } from "../../api/errors.ts";
import { writeFileAtomic } from "../../fs/atomic-file.ts";
import { runningPid } from "../../proc/pid-file.ts";
import { consoleTail } from "../vm-boot/console-log.ts";
import { FirecrackerClient, type FirecrackerRequest } from "./api-client.ts";
import type { FirecrackerData } from "./instance-files.ts";

/**
 * Starts `firecracker --api-sock ... --id ...` detached from the server (its own session:
 * it outlives a restart or SIGKILL of shed-server), its stdout and stderr (the guest
 * console and Firecracker's log) appended to the console file, its pid in the pid file.
 * Stale sockets go first (Firecracker refuses an API socket path that exists). Returns the
 * API client once the API answers.
 */
export async function launchFirecracker(binary: string, id: string, data: FirecrackerData, onRequest: (r: FirecrackerRequest & { status: number }) => void): Promise<FirecrackerClient> {
  rmSync(data.apiSocket, { force: true });
  rmSync(data.vsockSocket, { force: true });
  const out = openSync(data.console, "a", 0o600);
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn([binary, "--api-sock", data.apiSocket, "--id", id], {
      cwd: data.dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C" },
      detached: true,
      stdio: ["ignore", out, out],
    } as never);
  } catch (err) {
    throw new ShedError(
      "BACKEND_UNAVAILABLE",
      `cannot run ${binary}: ${(err as Error).message}; install Firecracker (seed 002: /usr/local/bin/firecracker) or set firecracker.binary in server.yaml`,
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
      throw new ShedError("BACKEND_UNAVAILABLE", `Firecracker exited (${proc.exitCode ?? proc.signalCode}) before its API answered: ${consoleTail(data.console, 8)}`);
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

/** The running Firecracker of an instance (its pid file, the API socket on its command line). */
export function firecrackerPid(data: Pick<FirecrackerData, "pidFile" | "apiSocket">): number | undefined {
  return runningPid(data.pidFile, data.apiSocket);
}
