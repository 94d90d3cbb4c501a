import type { InstanceSpec } from "../backend.ts";
import type { FirecrackerClient } from "./api-client.ts";
import type { FirecrackerData } from "./instance-files.ts";
import { JAILED } from "./jail.ts";

/** The paths Firecracker is given: the host's, or under the jailer the jail's (jail.ts). */
function apiPaths(data: FirecrackerData): { kernel: string; initrd: string; upper: string; lower: string; vsock: string } {
  return data.jail ? JAILED : { kernel: data.kernel, initrd: data.initrd, upper: data.upper, lower: data.lower, vsock: data.vsockSocket };
}

/**
 * The kernel command line of a shed microVM: the serial console, reboot by the keyboard
 * controller and exit on panic (a Firecracker microVM ends on either), the boot chain's disks
 * and name (guest/README.md), the agent on vsock, the address by the kernel's IP autoconfig
 * (seed 002: ip=<guest>::<gateway>:<mask>::eth0:off) and the memory cgroup Docker needs.
 */
export function bootArgs(spec: InstanceSpec, data: FirecrackerData, net: { gateway: string; netmask: string } | undefined, extra?: string): string {
  return [
    "console=ttyS0",
    "reboot=k",
    "panic=1",
    "shed.upper=/dev/vda",
    "shed.lower=/dev/vdb",
    `shed.name=${spec.name}`,
    "shed.agent=vsock",
    ...(net && data.ip ? [`ip=${data.ip}::${net.gateway}:${net.netmask}::eth0:off`] : []),
    "cgroup_enable=memory",
    "cgroup_memory=1",
    "quiet",
    "loglevel=4",
    ...(extra ? [extra] : []),
  ].join(" ");
}

/**
 * The microVM configured in Firecracker's order, every body typed from the contract:
 * machine, boot source, the disks (vda the shed's upper, vdb the image's lower: device order
 * is the order they are added), the NIC, the vsock, then InstanceStart.
 */
export async function configureVm(client: FirecrackerClient, spec: InstanceSpec, data: FirecrackerData, boot_args: string): Promise<void> {
  const paths = apiPaths(data);
  await client.call("PUT /machine-config", { vcpu_count: Math.max(1, Math.round(spec.cpus)), mem_size_mib: Math.round(spec.memoryMb), smt: false });
  await client.call("PUT /boot-source", { kernel_image_path: paths.kernel, initrd_path: paths.initrd, boot_args });
  await client.call("PUT /drives/{drive_id}", { drive_id: "upper", path_on_host: paths.upper, is_root_device: false, is_read_only: false }, { drive_id: "upper" });
  await client.call("PUT /drives/{drive_id}", { drive_id: "lower", path_on_host: paths.lower, is_root_device: false, is_read_only: true }, { drive_id: "lower" });
  if (data.tap) {
    await client.call("PUT /network-interfaces/{iface_id}", { iface_id: "eth0", host_dev_name: data.tap, guest_mac: data.mac }, { iface_id: "eth0" });
  }
  await client.call("PUT /vsock", { guest_cid: data.cid, uds_path: paths.vsock });
  await client.call("PUT /actions", { action_type: "InstanceStart" });
}
