import { existsSync, mkdtempSync, openSync, readSync, closeSync, statSync } from "node:fs";
import { Buffer } from "node:buffer";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Device, type LinuxBoot, MAX_SOCKET_PATH, type VfkitConfig, VfkitUsageError } from "./grammar.ts";

/** Where QEMU's virtiofsd is (Debian's qemu-system-common), or undefined. */
export function virtiofsdPath(): string | undefined {
  return ["/usr/lib/qemu/virtiofsd", "/usr/libexec/virtiofsd", "/usr/lib/virtiofsd"].find((p) => existsSync(p));
}

/**
 * What Virtualization.framework refuses when the configuration is validated (vfkit prints
 * it and exits 1), checked before anything starts: disks that cannot be opened or are qcow2,
 * shared directories that are not directories, mount tags VZ rejects, and what the stand-in
 * cannot emulate on this host.
 */
export function validate(cfg: VfkitConfig): void {
  if (!("kernel" in cfg.boot)) throw new VfkitUsageError("the stand-in boots only the linux bootloader");
  const boot = cfg.boot as LinuxBoot;
  if (!boot.kernel) throw new VfkitUsageError("missing kernel path");
  if (!boot.initrd) throw new VfkitUsageError("missing initrd path");
  if (!boot.cmdline) throw new VfkitUsageError("missing kernel command line");
  for (const f of [boot.kernel, boot.initrd]) if (!existsSync(f)) throw new VfkitUsageError(`open ${f}: no such file or directory`);
  if (cfg.cpus < 1) throw new VfkitUsageError("invalid virtual machine configuration: the number of CPUs must be at least 1");
  if (cfg.memoryMiB < 128) throw new VfkitUsageError("invalid virtual machine configuration: the memory size is below the minimum allowed (128 MiB)");
  const vsock = cfg.devices.filter((d) => d.kind === "virtio-vsock");
  const serial = cfg.devices.filter((d) => d.kind === "virtio-serial");
  const tags = new Set<string>();
  for (const d of cfg.devices) {
    if (d.kind === "virtio-blk") checkDisk(d.path);
    if (d.kind === "virtio-fs") {
      if (!d.sharedDir) throw new VfkitUsageError("virtio-fs needs the path to the directory to share");
      if (!existsSync(d.sharedDir) || !statSync(d.sharedDir).isDirectory()) {
        throw new VfkitUsageError(`invalid shared directory ${d.sharedDir}: not a directory`);
      }
      // VZVirtioFileSystemDeviceConfiguration.validateTag: non-empty, at most 36 bytes.
      if (!d.mountTag || Buffer.byteLength(d.mountTag) > 36) throw new VfkitUsageError(`invalid virtio-fs mount tag "${d.mountTag}"`);
      if (tags.has(d.mountTag)) throw new VfkitUsageError(`duplicate virtio-fs mount tag "${d.mountTag}"`);
      tags.add(d.mountTag);
    }
    if (d.kind === "virtio-vsock") {
      if (!d.port || !d.socketURL) throw new VfkitUsageError("virtio-vsock needs both a port and a socket URL");
      if (Buffer.byteLength(d.socketURL) > MAX_SOCKET_PATH) {
        throw new VfkitUsageError(`listen unix ${d.socketURL}: bind: invalid argument (the path exceeds macOS's ${MAX_SOCKET_PATH + 1}-byte sun_path)`);
      }
      // vfkit (pkg/vf/vsock.go): `connect` = vfkit listens on socketURL and, per connection
      // accepted there, dials the guest's vsock port (host -> guest, what shed needs);
      // `listen` (the default) = vfkit listens on the guest's port and dials socketURL per
      // guest connection (guest -> host). Only `connect` is bridged here (no AF_VSOCK on this
      // host: the guest's port is a virtio-serial port whose host end listens on socketURL).
      if (d.listen) throw new VfkitUsageError("the stand-in bridges only connect-mode vsock (the host dialing a guest port): add ,connect");
    }
  }
  if (vsock.length > 1) throw new VfkitUsageError("the stand-in bridges one vsock port");
  if (serial.length > 1) throw new VfkitUsageError("the stand-in emulates one virtio-serial console");
}

function checkDisk(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw new VfkitUsageError(`failed to open file ${path}: ${(err as Error).message}`);
  }
  try {
    const head = Buffer.alloc(4);
    if (readSync(fd, head, 0, 4, 0) < 4) throw new VfkitUsageError(`failed to read the header of file ${path}: EOF`);
    if (head.equals(Buffer.from([0x51, 0x46, 0x49, 0xfb]))) throw new VfkitUsageError("vfkit does not support qcow2 image format");
  } finally {
    closeSync(fd);
  }
}

export interface QemuPlan {
  argv: string[];
  /** virtiofsd per virtio-fs device: its argv and socket. */
  virtiofsd: { argv: string[]; socket: string }[];
  qmpSocket: string;
  /** The host end of the agent's port (the vsock socketURL), removed at exit. */
  sockets: string[];
  /** What vfkit would log as warnings and go on (level=warning). */
  warnings: string[];
  work: string;
}

/**
 * The QEMU machine that stands for the VZ one: the same devices in the same order, TCG on
 * the host's architecture. Two boundary translations, both forced by this host: the vsock
 * port becomes a virtio-serial port named `shed.agent` whose host end listens on the
 * socketURL (no AF_VSOCK here), and the guest is told so on its command line
 * (`shed.agent=serial`, the last word); `virtio-net,nat` is QEMU's user network with
 * `restrict=on` (nothing leaves the VM).
 */
export function qemuPlan(cfg: VfkitConfig, fsd: string | undefined): QemuPlan {
  const boot = cfg.boot as LinuxBoot;
  const work = mkdtempSync(join(tmpdir(), "vfkit-standin-"));
  const qmpSocket = join(work, "qmp.sock");
  const plan: QemuPlan = { argv: [], virtiofsd: [], qmpSocket, sockets: [], warnings: [], work };
  const hasVsock = cfg.devices.some((d) => d.kind === "virtio-vsock" && !existsSync(d.socketURL));
  const argv = [
    "-machine", "q35", "-accel", "tcg", "-cpu", "max,la57=off",
    "-smp", String(cfg.cpus), "-m", `${cfg.memoryMiB}M`,
    // virtio-fs wants guest memory QEMU can share with virtiofsd.
    "-object", `memory-backend-memfd,id=mem,size=${cfg.memoryMiB}M,share=on`, "-numa", "node,memdev=mem",
    "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
    "-kernel", boot.kernel, "-initrd", boot.initrd,
    "-append", hasVsock ? `${boot.cmdline} shed.agent=serial` : boot.cmdline,
    "-qmp", `unix:${qmpSocket},server=on,wait=off`,
  ];
  cfg.devices.forEach((d: Device, i) => {
    switch (d.kind) {
      case "virtio-blk":
        argv.push("-drive", `if=none,id=blk${i},file=${d.path.replaceAll(",", ",,")},format=raw${d.readonly ? ",readonly=on" : ""}`);
        argv.push("-device", `virtio-blk-pci,drive=blk${i}${d.deviceId ? `,serial=${d.deviceId}` : ""}`);
        break;
      case "virtio-fs": {
        if (!fsd) throw new VfkitUsageError("virtiofsd is not installed (apt-get install qemu-system-common)");
        const socket = join(work, `fs${i}.sock`);
        plan.virtiofsd.push({ argv: [fsd, `--socket-path=${socket}`, "-o", `source=${d.sharedDir}`, "-o", "cache=auto", "-o", "sandbox=chroot"], socket });
        argv.push("-chardev", `socket,id=fs${i},path=${socket}`, "-device", `vhost-user-fs-pci,chardev=fs${i},tag=${d.mountTag}`);
        break;
      }
      case "virtio-net":
        argv.push("-netdev", `user,id=net${i},restrict=on`, "-device", `virtio-net-pci,netdev=net${i}${d.mac ? `,mac=${d.mac}` : ""}`);
        break;
      case "virtio-rng":
        argv.push("-device", "virtio-rng-pci");
        break;
      case "virtio-balloon":
        argv.push("-device", "virtio-balloon-pci");
        break;
      case "virtio-serial":
        // VZ overwrites the log on every boot (NewFileSerialPortAttachment, append false).
        argv.push("-device", `virtio-serial-pci,id=con${i}`, "-chardev", `file,id=log${i},path=${d.logFilePath!.replaceAll(",", ",,")},append=off`);
        argv.push("-device", `virtconsole,bus=con${i}.0,chardev=log${i}`);
        break;
      case "virtio-vsock":
        // vfkit's net.ListenUnix fails on a path that exists; vfkit then only warns
        // ("error exposing vsock port") and runs the VM without that port: so does this.
        if (existsSync(d.socketURL)) {
          plan.warnings.push(`error exposing vsock port ${d.port}: listen unix ${d.socketURL}: bind: address already in use`);
          break;
        }
        plan.sockets.push(d.socketURL);
        argv.push("-device", `virtio-serial-pci,id=vs${i}`, "-chardev", `socket,id=vsock${i},path=${d.socketURL},server=on,wait=off`);
        argv.push("-device", `virtserialport,bus=vs${i}.0,chardev=vsock${i},name=shed.agent`);
        break;
    }
  });
  plan.argv = argv;
  return plan;
}
