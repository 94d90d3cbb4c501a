import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TestServer } from "../harness/index.ts";

/** Pids of QEMU processes running this server's instance `name` (by their command line). */
export function qemuProcesses(server: TestServer, name: string): number[] {
  const dir = join(server.stateDir, "qemu", "instances", name);
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmd.startsWith("qemu-system") && cmd.includes(`${dir}/`)) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}
