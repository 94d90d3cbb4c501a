import { describe, expect, it } from "vitest";
import { defaultBinary, kernelCmdline, qemuArgs, type VmLayout } from "./command.ts";

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

  it("puts the upper first (vda) and the read-only lower second (vdb)", () => {
    const drives = valuesOf(args, "-drive");
    expect(drives[0]).toContain(`file=${layout.upper}`);
    expect(drives[1]).toContain(`file=${layout.lower}`);
    expect(drives[1]).toContain("readonly=on");
    expect(valuesOf(args, "-device").slice(0, 2)).toEqual([
      "virtio-blk-pci,drive=upper,addr=0x4",
      "virtio-blk-pci,drive=lower,addr=0x5",
    ]);
  });

  it("boots the image's kernel and initramfs with the shed arguments", () => {
    expect(valuesOf(args, "-kernel")).toEqual([layout.kernel]);
    expect(valuesOf(args, "-initrd")).toEqual([layout.initrd]);
    const cmdline = valuesOf(args, "-append")[0]!;
    for (const part of ["console=ttyS0", "shed.name=web", "shed.upper=/dev/vda", "shed.lower=/dev/vdb", "shed.agent=serial"]) {
      expect(cmdline.split(" ")).toContain(part);
    }
  });

  it("runs detached with pid file, QMP socket and console log in the instance dir", () => {
    expect(args).toContain("-daemonize");
    expect(valuesOf(args, "-pidfile")).toEqual([layout.pidFile]);
    expect(valuesOf(args, "-qmp")).toEqual([`unix:${layout.qmpSocket},server=on,wait=off`]);
    expect(valuesOf(args, "-chardev")[0]).toBe(`file,id=console,path=${layout.console},append=on`);
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
    expect(valuesOf(args, "-chardev")).toContain(`socket,id=agent,path=${layout.agentSocket},server=on,wait=off`);
    const { agentSocket: _, ...vsockLayout } = layout;
    const vsock = qemuArgs(settings, { ...vsockLayout, vsockCid: 101 });
    expect(vsock).toContain("vhost-vsock-pci,guest-cid=101,addr=0x8");
    expect(vsock.join(" ")).not.toContain("virtserialport");
    expect(kernelCmdline(settings, { vsockCid: 101 })).toContain("shed.agent=vsock");
  });

  it("has user-mode networking and no reboot loop", () => {
    expect(valuesOf(args, "-netdev")).toEqual(["user,id=net0"]);
    expect(args).toContain("-no-reboot");
  });

  it("exports host directories over virtio-9p, read-only where asked, commas escaped", () => {
    const shares = [
      { tag: "shed9p0", path: "/home/me/proj", target: "/workspace", readonly: false },
      { tag: "shed9p1", path: "/srv/a,b", target: "/srv/ab", readonly: true },
    ];
    const withShares = qemuArgs({ ...settings, shares }, layout);
    expect(valuesOf(withShares, "-fsdev")).toEqual([
      "local,id=fs0,path=/home/me/proj,security_model=none",
      "local,id=fs1,path=/srv/a,,b,security_model=none,readonly=on",
    ]);
    expect(valuesOf(withShares, "-device")).toContain("virtio-9p-pci,fsdev=fs1,mount_tag=shed9p1");
    expect(valuesOf(args, "-fsdev")).toEqual([]);
  });

  it("picks the system emulator of the host's architecture", () => {
    expect(defaultBinary("x64")).toBe("qemu-system-x86_64");
    expect(defaultBinary("arm64")).toBe("qemu-system-aarch64");
  });
});
