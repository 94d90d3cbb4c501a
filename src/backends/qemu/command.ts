/**
 * The qemu-system command line of a shed VM, as a pure function (unit-tested): the same
 * machine, disks and transports every time, so a plain QEMU run with the same argv is the
 * fair baseline of the benchmark.
 */
export type Accel = "kvm" | "tcg";

export type VmLayout = {
  /** Instance dir: the upper disk, console log, pid file live here. */
  dir: string;
  upper: string;
  lower: string;
  kernel: string;
  initrd: string;
  console: string;
  pidFile: string;
  qmpSocket: string;
  /** virtio-serial agent port's host socket (absent when the agent uses vsock). */
  agentSocket?: string;
  /** vhost-vsock guest CID (when the host has /dev/vhost-vsock). */
  vsockCid?: number;
};

export interface VmSettings {
  name: string;
  cpus: number;
  memoryMb: number;
  accel: Accel;
  arch?: "x86_64" | "aarch64";
  /** Extra kernel arguments (after shed's own). */
  extraArgs?: string[];
  /** Host directories exported over virtio-9p (mounted in the guest by the backend after boot). */
  shares?: Share[];
}

export interface Share {
  /** The 9p mount tag (at most 31 bytes). */
  tag: string;
  /** Host directory, and where the guest mounts it. */
  path: string;
  target: string;
  readonly: boolean;
}

/** The kernel command line: console, the boot chain's disks, the name and the agent transport. */
export function kernelCmdline(s: VmSettings, layout: Pick<VmLayout, "vsockCid">): string {
  const console = s.arch === "aarch64" ? "ttyAMA0" : "ttyS0";
  return [
    `console=${console}`,
    "shed.upper=/dev/vda",
    "shed.lower=/dev/vdb",
    `shed.name=${s.name}`,
    `shed.agent=${layout.vsockCid ? "vsock" : "serial"}`,
    // Any kernel panic ends the VM (with -no-reboot) instead of leaving it spinning.
    "panic=-1",
    "quiet",
    "loglevel=4",
    ...(s.extraArgs ?? []),
  ].join(" ");
}

export function qemuArgs(s: VmSettings, layout: VmLayout): string[] {
  const arm = s.arch === "aarch64";
  const cpus = Math.max(1, Math.round(s.cpus));
  const args = [
    "-name",
    `shed-${s.name},process=shed-${s.name.slice(0, 10)}`,
    "-machine",
    arm ? "virt,gic-version=max" : "q35",
    "-accel",
    s.accel,
    "-cpu",
    // Under TCG: everything QEMU emulates except 5-level paging, with which the Debian 6.1
    // kernel soft-locked during boot in our runs.
    s.accel === "kvm" ? "host" : arm ? "max" : "max,la57=off",
    "-smp",
    String(cpus),
    "-m",
    `${Math.round(s.memoryMb)}M`,
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    // A reboot from inside ends the VM like a power-off: the server restarts it on `start`.
    "-no-reboot",
    "-kernel",
    layout.kernel,
    "-initrd",
    layout.initrd,
    "-append",
    kernelCmdline(s, layout),
    // Disk order is the device order: vda = the shed's upper, vdb = the image's lower.
    "-drive",
    `if=none,id=upper,file=${layout.upper},format=raw,discard=unmap`,
    "-device",
    "virtio-blk-pci,drive=upper,addr=0x4",
    "-drive",
    `if=none,id=lower,file=${layout.lower},format=raw,readonly=on`,
    "-device",
    "virtio-blk-pci,drive=lower,addr=0x5",
    "-netdev",
    "user,id=net0",
    "-device",
    "virtio-net-pci,netdev=net0,addr=0x6",
    "-device",
    "virtio-rng-pci,addr=0x7",
    "-chardev",
    `file,id=console,path=${layout.console},append=on`,
    "-serial",
    "chardev:console",
    "-qmp",
    `unix:${layout.qmpSocket},server=on,wait=off`,
    "-pidfile",
    layout.pidFile,
    "-daemonize",
  ];
  for (const [i, share] of (s.shares ?? []).entries()) {
    // security_model=none: files get the guest's owners when QEMU may chown (as root), else
    // QEMU's; QEMU options escape a comma by doubling it.
    const path = share.path.replaceAll(",", ",,");
    args.push(
      "-fsdev",
      `local,id=fs${i},path=${path},security_model=none${share.readonly ? ",readonly=on" : ""}`,
      "-device",
      `virtio-9p-pci,fsdev=fs${i},mount_tag=${share.tag}`,
    );
  }
  if (layout.vsockCid) {
    args.push("-device", `vhost-vsock-pci,guest-cid=${layout.vsockCid},addr=0x8`);
  } else if (layout.agentSocket) {
    args.push(
      "-device",
      "virtio-serial-pci,id=vser0,addr=0x8",
      "-chardev",
      `socket,id=agent,path=${layout.agentSocket},server=on,wait=off`,
      "-device",
      "virtserialport,bus=vser0.0,chardev=agent,name=shed.agent",
    );
  }
  return args;
}

/** qemu-system-x86_64 or -aarch64, matching the host. */
export function defaultBinary(arch: string = process.arch): string {
  return arch === "arm64" ? "qemu-system-aarch64" : "qemu-system-x86_64";
}
