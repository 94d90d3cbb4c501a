/**
 * The qemu-system command line of a shed VM, as a pure function (unit-tested): the same
 * machine, disks and transports every time, so a plain QEMU run with the same argv is the
 * fair baseline of the benchmark.
 *
 * QEMU runs confined (launch.ts): as an unprivileged user, under its seccomp sandbox, and
 * it opens no file of the server's state by path. The server opens the disks, the console
 * log, the kernel and initramfs, binds the control sockets and attaches to the tap, and
 * hands QEMU the descriptors at fixed numbers (VM_FDS): disks and console through fd sets
 * (`-add-fd`, whose `opaque` names the real file, which also marks the process as this
 * instance's), sockets as listening fds, the tap as its fd, kernel and initramfs as
 * /proc/self/fd paths.
 */
export type Accel = "kvm" | "tcg";

/** The descriptors QEMU inherits (launch.ts opens them in this order). */
export const VM_FDS = {
  upperRw: 3,
  upperRo: 4,
  lower: 5,
  console: 6,
  kernel: 7,
  initrd: 8,
  qmp: 9,
  /** Absent without a network. */
  tap: 10,
  /** Absent when the agent uses vsock. */
  agent: 11,
} as const;

/**
 * QEMU's seccomp filter with every optional set denied: no fork/exec, no set*id, no
 * scheduler or affinity changes. It is installed before QEMU would daemonize or drop
 * privileges (both of which it then forbids), so the launcher does those instead.
 */
export const SANDBOX = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";

/**
 * 9p shares keep guest owners and modes in xattrs (`mapped-xattr`): on the host a file the
 * guest makes is a plain file (never setuid, setgid or a device node) with these modes,
 * owned by the user QEMU runs as.
 */
export const SHARE_MODES = { fmode: "0644", dmode: "0755" } as const;

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
  /** The VM's NIC on a host tap (vm-network), passed as VM_FDS.tap; absent: no network device at all. */
  nic?: { tap: string; mac: string };
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
    `/proc/self/fd/${VM_FDS.kernel}`,
    "-initrd",
    `/proc/self/fd/${VM_FDS.initrd}`,
    "-append",
    kernelCmdline(s, layout),
    // Disk order is the device order: vda = the shed's upper, vdb = the image's lower.
    ...fdSet(1, [VM_FDS.upperRw, VM_FDS.upperRo], layout.upper),
    "-drive",
    "if=none,id=upper,file=/dev/fdset/1,format=raw,discard=unmap",
    "-device",
    "virtio-blk-pci,drive=upper,addr=0x4",
    ...fdSet(2, [VM_FDS.lower], layout.lower),
    "-drive",
    "if=none,id=lower,file=/dev/fdset/2,format=raw,readonly=on",
    "-device",
    "virtio-blk-pci,drive=lower,addr=0x5",
    ...(s.nic
      ? [
          "-netdev",
          `tap,id=net0,fd=${VM_FDS.tap}`,
          "-device",
          `virtio-net-pci,netdev=net0,mac=${s.nic.mac},addr=0x6`,
        ]
      : []),
    "-device",
    "virtio-rng-pci,addr=0x7",
    ...fdSet(3, [VM_FDS.console], layout.console),
    "-chardev",
    "file,id=console,path=/dev/fdset/3,append=on",
    "-serial",
    "chardev:console",
    "-chardev",
    `socket,id=qmp,fd=${VM_FDS.qmp},server=on,wait=off`,
    "-mon",
    "chardev=qmp,mode=control",
    "-sandbox",
    SANDBOX,
  ];
  for (const [i, share] of (s.shares ?? []).entries()) {
    args.push(
      "-fsdev",
      `local,id=fs${i},path=${optionValue(share.path)},security_model=mapped-xattr,fmode=${SHARE_MODES.fmode},dmode=${SHARE_MODES.dmode}${share.readonly ? ",readonly=on" : ""}`,
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
      `socket,id=agent,fd=${VM_FDS.agent},server=on,wait=off`,
      "-device",
      "virtserialport,bus=vser0.0,chardev=agent,name=shed.agent",
    );
  }
  return args;
}

/** `-add-fd` for each descriptor into fd set `set`; the first names the file (`opaque`). */
function fdSet(set: number, fds: number[], file: string): string[] {
  return fds.flatMap((fd, i) => ["-add-fd", `fd=${fd},set=${set}${i === 0 ? `,opaque=${optionValue(file)}` : ""}`]);
}

/** QEMU options escape a comma by doubling it. */
function optionValue(value: string): string {
  return value.replaceAll(",", ",,");
}

/** qemu-system-x86_64 or -aarch64, matching the host. */
export function defaultBinary(arch: string = process.arch): string {
  return arch === "arm64" ? "qemu-system-aarch64" : "qemu-system-x86_64";
}
