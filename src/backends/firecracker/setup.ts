import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import { silentLogger } from "../../log/logger.ts";
import type { SetupInput, SetupStep } from "../definition.ts";
import { findTool, VmNetwork } from "../vm-network/index.ts";
import type { FirecrackerSection } from "./section.ts";

/**
 * Seed 002's host setup for Firecracker sheds, idempotent, each step reported: the
 * directories (instance and socket dirs), the bridge at bridge_cidr, forwarding and NAT for
 * its subnet (network: isolated), and CAP_NET_ADMIN on both binaries (step 7: a child does
 * not inherit capabilities, so firecracker needs its own to open its tap).
 */
export async function firecrackerSetup(input: SetupInput<FirecrackerSection>): Promise<SetupStep[]> {
  const { section, stateDir, dryRun } = input;
  const steps: SetupStep[] = [];
  for (const dir of [section.instance_dir ?? join(stateDir, "firecracker", "instances"), ...(section.socket_dir ? [section.socket_dir] : [])]) {
    const there = existsSync(dir);
    if (!there && !dryRun) mkdirSync(dir, { recursive: true, mode: 0o700 });
    steps.push({ step: "directory", status: there ? "present" : dryRun ? "would make" : "made", detail: dir });
  }
  if (section.network === "isolated") {
    const net = new VmNetwork({ bridge: section.bridge_name, subnet: section.bridge_cidr, stateDir, serverId: input.serverId, logger: silentLogger });
    steps.push(...(await net.setup(dryRun)));
  }
  const binaries = [input.serverBinary, Bun.which(section.binary) ?? undefined].filter((b): b is string => !!b);
  for (const bin of binaries) steps.push(await capability(bin, dryRun));
  return steps;
}

async function capability(binary: string, dryRun: boolean): Promise<SetupStep> {
  const getcap = findTool("getcap");
  const setcap = findTool("setcap");
  if (!getcap || !setcap) throw new ShedError("BACKEND_UNAVAILABLE", "setup needs getcap and setcap to give the binaries CAP_NET_ADMIN: apt-get install libcap2-bin");
  const has = Bun.spawnSync([getcap, binary], { stdout: "pipe" }).stdout.toString().includes("cap_net_admin");
  if (!has && !dryRun) {
    const r = Bun.spawnSync([setcap, "cap_net_admin+ep", binary], { stderr: "pipe" });
    if (r.exitCode !== 0) throw new ShedError("BACKEND_UNAVAILABLE", `setcap cap_net_admin+ep ${binary} failed: ${r.stderr.toString().trim()}`);
  }
  return { step: "capability", status: has ? "present" : dryRun ? "would make" : "made", detail: `cap_net_admin+ep on ${binary}` };
}
