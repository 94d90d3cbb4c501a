import type { AgentConnection } from "../../agent/protocol/api.ts";
import { runInShed } from "../../agent/protocol/run-in-shed.ts";
import { ShedError } from "../../api/errors.ts";
import type { InstanceSpec } from "../backend.ts";
import type { Share } from "./command.ts";

/** The shed's host directories (config mounts, --local-dir, --add-dir) as 9p shares. */
export function sharesOf(spec: InstanceSpec): Share[] {
  return (spec.mounts ?? []).map((m, i) => ({ tag: `shed9p${i}`, path: m.source, target: m.target, readonly: m.readonly }));
}

/**
 * 9p mounts do not survive a reboot, so every boot mounts them again (as root, through the
 * agent). A mount that fails fails the boot: the shed would otherwise miss its /workspace.
 */
export async function mountShares(agent: AgentConnection, shares: Share[], vmm?: string): Promise<void> {
  for (const { tag, path, target, readonly } of shares) {
    const options = `trans=virtio,version=9p2000.L,msize=524288${readonly ? ",ro" : ""}`;
    const r = await runInShed(agent, {
      argv: ["sh", "-c", 'modprobe -q 9pnet_virtio 2>/dev/null; mkdir -p "$2" && mount -t 9p -o "$3" "$1" "$2"', "sh", tag, target, options],
      user: "root",
      login: false,
    });
    if (r.code !== 0) {
      const who = vmm ? ` (QEMU runs as ${vmm}: that user must be able to read${readonly ? "" : " and write"} ${path})` : "";
      throw new ShedError("MOUNT_FAILED", `mounting ${path} at ${target} in the VM failed: ${r.stderr.trim() || `exit ${r.code}`}${who}`);
    }
  }
}
