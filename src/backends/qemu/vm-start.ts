import type { VmNetwork } from "../vm-network/index.ts";
import { type Accel, qemuArgs, type Share } from "./command.ts";
import type { QemuData } from "./instance-files.ts";
import { launchVm } from "./launch.ts";
import { vmmUser } from "./vmm-user.ts";

export interface VmStartOptions {
  binary: string;
  /** The server's isolated VM network; undefined: `qemu.network: none` (no NIC at all). */
  network?: VmNetwork;
  /** qemu.run_as */
  runAs?: string;
}

/**
 * Starts a shed's QEMU, confined: decides its user (vmm-user.ts), makes its tap on the
 * server's VM network, and launches it (launch.ts, which hands QEMU the tap as an open
 * descriptor). Records the tap, MAC and user in `data`.
 */
export async function startVm(
  opts: VmStartOptions,
  vm: { name: string; cpus: number; memoryMb: number; accel: Accel; shares: Share[] },
  data: QemuData,
): Promise<void> {
  const devices = [...(vm.accel === "kvm" ? ["/dev/kvm"] : []), ...(data.vsockCid ? ["/dev/vhost-vsock"] : [])];
  const user = await vmmUser({ runAs: opts.runAs, shares: vm.shares, devices });
  const nic = await opts.network?.attach(vm.name);
  Object.assign(data, { tap: nic?.tap, mac: nic?.mac, vmm: user?.label });
  // The shed's own machine-id (made at create or spawn, kept across stop/start): systemd takes
  // it over anything on the disks, so no two sheds share one, a snapshot's spawns included.
  const extraArgs = data.machineId ? [`systemd.machine_id=${data.machineId}`] : [];
  const args = qemuArgs({ ...vm, nic, extraArgs }, data);
  await launchVm({ binary: opts.binary, args, layout: data, tap: nic?.tap, user });
}
