import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killByPidFile, readPid, runningPid } from "../../../src/proc/pid-file.ts";
import { DIST, startServer, type TestServer } from "../../harness/index.ts";
import { busyboxRootfsTar } from "../../harness/images.ts";
import { makeLayoutImage } from "../../oci/lib/images.ts";
import type { LifecycleTarget } from "../target.ts";

const instanceDir = (server: TestServer, name: string) => join(server.stateDir, "trivial", "instances", name);
let scratch: string | undefined;

/** The trivial backend in the lifecycle suite: its own shed-server entry point, an image from an OCI layout. */
export const trivialTarget: LifecycleTarget = {
  backend: "trivial",
  missing: () => (existsSync(join(DIST, "shed-agent")) ? undefined : "skipped: needs dist/shed-agent (make build)"),
  async start() {
    scratch = mkdtempSync(join(tmpdir(), "shed-trivial-"));
    makeLayoutImage(join(scratch, "layout"), { tag: "suite", layers: [busyboxRootfsTar()] });
    const server = await startServer({
      command: [process.execPath, join(import.meta.dirname, "shed-server.ts")],
      config: { default_backend: "trivial", enabled_backends: ["trivial"], agent_path: join(DIST, "shed-agent"), trivial: { stop_timeout: 3 } },
    });
    return { server, image: `oci:${join(scratch, "layout")}:suite` };
  },
  async cleanup(server) {
    // Agents a failed test left running: only this server's, by their pid files.
    const root = server ? join(server.stateDir, "trivial", "instances") : undefined;
    for (const name of root && existsSync(root) ? readdirSync(root) : []) killByPidFile(join(root!, name, "agent.pid"), join(root!, name), "SIGKILL");
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  },
  create: { args: ["--cpus", "1", "--memory", "256"], expect: { cpus: 1, memoryMb: 256 } },
  keptPaths: (server, name) => [join(instanceDir(server, name), "home", "kept")],
  instance(server, name) {
    const dir = instanceDir(server, name);
    if (!existsSync(dir)) return "gone";
    return runningPid(join(dir, "agent.pid"), dir) ? "running" : "stopped";
  },
  identity: (server, name) => String(readPid(join(instanceDir(server, name), "agent.pid")) ?? ""),
  timeoutMs: 60_000,
};
