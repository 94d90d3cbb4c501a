import type { AgentConnection } from "../../agent/protocol/api.ts";
import { runInShed } from "../../agent/protocol/run-in-shed.ts";
import { ShedError } from "../../api/errors.ts";
import type { InstanceSpec } from "../backend.ts";
import { splitMounts } from "../vm-boot/file-sync.ts";
import type { VzShare } from "./command.ts";

/** The shed's host directories (config mounts, --local-dir, --add-dir) as VirtioFS shares (single files are synced: vm-boot/file-sync.ts). */
export function sharesOf(spec: InstanceSpec): VzShare[] {
  return splitMounts(spec.mounts).dirs.map((m, i) => ({ tag: `shedfs${i}`, path: m.source, target: m.target, readonly: m.readonly }));
}

/**
 * VirtioFS mounts do not survive a reboot: every boot mounts them again, as root through the
 * agent. vfkit shares every directory read-write (VZ's share has no read-only flag on its
 * command line), so a read-only mount is read-only in the guest's mount. A mount that fails
 * fails the boot (seed 004: the VM is stopped and the create fails).
 */
export async function mountVirtiofs(agent: AgentConnection, shares: VzShare[]): Promise<void> {
  try {
    for (const { tag, path, target, readonly } of shares) {
      const r = await runInShed(agent, {
        argv: ["sh", "-c", 'modprobe -q virtiofs 2>/dev/null; mkdir -p "$2" && mount -t virtiofs -o "$3" "$1" "$2"', "sh", tag, target, readonly ? "ro" : "rw"],
        user: "root",
        login: false,
      });
      if (r.code !== 0) {
        throw new ShedError("MOUNT_FAILED", `mounting ${path} at ${target} over VirtioFS failed: ${r.stderr.trim() || `exit ${r.code}`}`);
      }
    }
  } finally {
    agent.close();
  }
}
