import { describe, expect, it } from "vitest";
import { defaultBinary, kernelCmdline, qemuArgs, SANDBOX, VM_FDS, type VmLayout } from "./command.ts";

const layout: VmLayout = {
  dir: "/s/qemu/instances/web",
  upper: "/s/qemu/instances/web/upper.ext4",
  lower: "/s/qemu/images/sha256-ab/rootfs.erofs",
  kernel: "/s/qemu/images/sha256-ab/vmlinuz",
  initrd: "/s/qemu/images/sha256-ab/initrd.img",
  console: "/s/qemu/instances/web/console.log",
  pidFile: "/s/qemu/instances/web/qemu.pid",
  qmpSocket: "/s/qemu/instances/web/qmp.sock",
  agentSocket: "/s/qemu/instances/web/agent.sock",
};
const settings = { name: "web", cpus: 1.5, memoryMb: 2048, accel: "tcg" as const };

function valuesOf(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

describe("qemu command line", () => {
  const args = qemuArgs(settings, layout);

  it("puts the upper first (vda) and the read-only lower second (vdb), both from descriptors the server opened", () => {
    const drives = valuesOf(args, "-drive");
    expect(drives[0]).toBe("if=none,id=upper,file=/dev/fdset/1,format=raw,discard=unmap");
    expect(drives[1]).toBe("if=none,id=lower,file=/dev/fdset/2,format=raw,readonly=on");
    expect(valuesOf(args, "-add-fd")).toEqual([
      `fd=${VM_FDS.upperRw},set=1,opaque=${layout.upper}`,
      `fd=${VM_FDS.upperRo},set=1`,
      `fd=${VM_FDS.lower},set=2,opaque=${layout.lower}`,
      `fd=${VM_FDS.console},set=3,opaque=${layout.console}`,
    ]);
    expect(valuesOf(args, "-device").slice(0, 2)).toEqual([
      "virtio-blk-pci,drive=upper,addr=0x4",
      "virtio-blk-pci,drive=lower,addr=0x5",
    ]);
  });

  it("boots the image's kernel and initramfs (inherited descriptors) with the shed arguments", () => {
    expect(valuesOf(args, "-kernel")).toEqual([`/proc/self/fd/${VM_FDS.kernel}`]);
    expect(valuesOf(args, "-initrd")).toEqual([`/proc/self/fd/${VM_FDS.initrd}`]);
    const cmdline = valuesOf(args, "-append")[0]!;
    for (const part of ["console=ttyS0", "shed.name=web", "shed.upper=/dev/vda", "shed.lower=/dev/vdb", "shed.agent=serial"]) {
      expect(cmdline.split(" ")).toContain(part);
    }
  });

  it("runs in QEMU's seccomp sandbox with every optional set denied, neither daemonizing nor switching user itself", () => {
    expect(valuesOf(args, "-sandbox")).toEqual([SANDBOX]);
    expect(SANDBOX).toBe("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
    // Both are forbidden by that filter in QEMU 7.2: the launcher does them (launch.ts).
    expect(args).not.toContain("-daemonize");
    expect(args).not.toContain("-runas");
    expect(args).not.toContain("-pidfile");
  });

  it("takes QMP and the console on descriptors, and names the instance's files on its command line", () => {
    expect(valuesOf(args, "-chardev")).toContain(`socket,id=qmp,fd=${VM_FDS.qmp},server=on,wait=off`);
    expect(valuesOf(args, "-mon")).toEqual(["chardev=qmp,mode=control"]);
    expect(valuesOf(args, "-chardev")[0]).toBe("file,id=console,path=/dev/fdset/3,append=on");
    // runningPid() recognizes the instance's QEMU by its dir in the fd sets' opaque names.
    expect(args.join(" ")).toContain(`${layout.dir}/`);
  });

  it("rounds CPUs up to whole vCPUs and passes memory in MiB", () => {
    expect(valuesOf(args, "-smp")).toEqual(["2"]);
    expect(valuesOf(args, "-m")).toEqual(["2048M"]);
    expect(valuesOf(qemuArgs({ ...settings, cpus: 0.2 }, layout), "-smp")).toEqual(["1"]);
  });

  it("uses the accelerator it is given, with a CPU model that suits it", () => {
    expect(valuesOf(args, "-accel")).toEqual(["tcg"]);
    expect(valuesOf(args, "-cpu")).toEqual(["max,la57=off"]);
    const kvm = qemuArgs({ ...settings, accel: "kvm" }, layout);
    expect(valuesOf(kvm, "-accel")).toEqual(["kvm"]);
    expect(valuesOf(kvm, "-cpu")).toEqual(["host"]);
  });

  it("offers the agent a virtio-serial port on a host socket, or vsock when it has a CID", () => {
    expect(args).toContain("virtserialport,bus=vser0.0,chardev=agent,name=shed.agent");
    expect(valuesOf(args, "-chardev")).toContain(`socket,id=agent,fd=${VM_FDS.agent},server=on,wait=off`);
    const { agentSocket: _, ...vsockLayout } = layout;
    const vsock = qemuArgs(settings, { ...vsockLayout, vsockCid: 101 });
    expect(vsock).toContain("vhost-vsock-pci,guest-cid=101,addr=0x8");
    expect(vsock.join(" ")).not.toContain("virtserialport");
    expect(kernelCmdline(settings, { vsockCid: 101 })).toContain("shed.agent=vsock");
  });

  it("has a NIC on the shed's tap when it has a network, none otherwise, never user-mode networking", () => {
    const nic = qemuArgs({ ...settings, nic: { tap: "shtap0123456789", mac: "52:54:00:aa:bb:cc" } }, layout);
    expect(valuesOf(nic, "-netdev")).toEqual([`tap,id=net0,fd=${VM_FDS.tap}`]);
    expect(valuesOf(nic, "-device")).toContain("virtio-net-pci,netdev=net0,mac=52:54:00:aa:bb:cc,addr=0x6");
    expect(valuesOf(args, "-netdev")).toEqual([]);
    expect(args.join(" ")).not.toContain("virtio-net");
    for (const a of [args, nic]) expect(a.join(" ")).not.toMatch(/user,|-nic|slirp/);
    expect(args).toContain("-no-reboot");
  });

  it("exports host directories over virtio-9p (mapped-xattr: no setuid or device file reaches the host), read-only where asked, commas escaped", () => {
    const shares = [
      { tag: "shed9p0", path: "/home/me/proj", target: "/workspace", readonly: false },
      { tag: "shed9p1", path: "/srv/a,b", target: "/srv/ab", readonly: true },
    ];
    const withShares = qemuArgs({ ...settings, shares }, layout);
    expect(valuesOf(withShares, "-fsdev")).toEqual([
      "local,id=fs0,path=/home/me/proj,security_model=mapped-xattr,fmode=0644,dmode=0755",
      "local,id=fs1,path=/srv/a,,b,security_model=mapped-xattr,fmode=0644,dmode=0755,readonly=on",
    ]);
    expect(valuesOf(withShares, "-device")).toContain("virtio-9p-pci,fsdev=fs1,mount_tag=shed9p1");
    expect(valuesOf(args, "-fsdev")).toEqual([]);
  });

  it("picks the system emulator of the host's architecture", () => {
    expect(defaultBinary("x64")).toBe("qemu-system-x86_64");
    expect(defaultBinary("arm64")).toBe("qemu-system-aarch64");
  });
});
