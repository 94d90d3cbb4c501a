import { connect } from "node:net";
import { join } from "node:path";
import type { BootSource, Drive, MachineConfiguration, NetworkInterface } from "../../../src/backends/firecracker/api-types.gen.ts";

/** What InstanceStart boots: the configuration the API collected. */
export interface VmConfig {
  machine: MachineConfiguration;
  boot: BootSource;
  /** In Firecracker's device order: the root device first, then the others as they were added. */
  drives: Drive[];
  nets: NetworkInterface[];
  /** The virtio-serial port standing for the vsock device (its chardev socket), when configured. */
  vsockPort?: { name: string; socket: string };
}

export const CONSOLE_CHARDEV = "stdio,id=console,signal=off";

/** The guest's virtio-serial port of the vsock device: the guest agent's `shed.agent=serial` name. */
export const AGENT_PORT_NAME = "shed.agent";

/**
 * The QEMU command line of a Firecracker microVM as this stand-in boots it under TCG: q35
 * (microvm hangs at TSC calibration without KVM), the kernel by PVH, drives, taps and
 * console as configured, and the vsock device as a virtio-serial port. virtio devices are
 * on PCI here where Firecracker gives virtio-mmio: the guest's initramfs loads both.
 */
export function qemuArgs(cfg: VmConfig, dir: string): string[] {
  const args = [
    "-name",
    "firecracker-standin",
    "-machine",
    "q35",
    "-accel",
    "tcg",
    "-cpu",
    "max,la57=off",
    "-smp",
    String(cfg.machine.vcpu_count),
    "-m",
    `${cfg.machine.mem_size_mib}M`,
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    // A guest reboot ends a Firecracker microVM: it has no reset.
    "-no-reboot",
    "-kernel",
    cfg.boot.kernel_image_path,
    ...(cfg.boot.initrd_path ? ["-initrd", cfg.boot.initrd_path] : []),
    "-append",
    // The one thing the guest sees differently: its vsock device is a virtio-serial port here.
    [cfg.boot.boot_args ?? "", ...(cfg.vsockPort ? ["shed.agent=serial"] : [])].join(" ").trim(),
    // The guest console (ttyS0) is Firecracker's stdout (a file, a pipe or a socket).
    "-chardev",
    CONSOLE_CHARDEV,
    "-serial",
    "chardev:console",
    "-qmp",
    `unix:${join(dir, "qmp.sock")},server=on,wait=off`,
  ];
  let slot = 4;
  for (const [i, d] of cfg.drives.entries()) {
    const cache = d.cache_type === "Writeback" ? "writeback" : "unsafe";
    args.push(
      "-drive",
      `if=none,id=drive${i},file=${opt(d.path_on_host!)},format=raw,cache=${cache}${d.is_read_only ? ",readonly=on" : ""}`,
      "-device",
      `virtio-blk-pci,drive=drive${i},addr=0x${(slot++).toString(16)}`,
    );
  }
  for (const [i, n] of cfg.nets.entries()) {
    args.push(
      "-netdev",
      `tap,id=net${i},ifname=${n.host_dev_name},script=no,downscript=no`,
      "-device",
      `virtio-net-pci,netdev=net${i}${n.guest_mac ? `,mac=${n.guest_mac}` : ""},addr=0x${(slot++).toString(16)}`,
    );
  }
  if (cfg.vsockPort) {
    args.push(
      "-device",
      `virtio-serial-pci,id=vser0,addr=0x${(slot++).toString(16)}`,
      "-chardev",
      `socket,id=vsock,path=${opt(cfg.vsockPort.socket)},server=on,wait=off`,
      "-device",
      // QEMU reports the guest opening and closing a port (VSERPORT_CHANGE) only for one with an id.
      `virtserialport,bus=vser0.0,chardev=vsock,name=${cfg.vsockPort.name},id=vsockport`,
    );
  }
  return args;
}

function opt(v: string): string {
  return v.replaceAll(",", ",,");
}

/**
 * A QMP session that keeps the events: the stand-in learns from VSERPORT_CHANGE whether the
 * guest holds its agent port open (the vsock listener), and sends ctrl-alt-del through it.
 */
export class Qmp {
  private buf = "";
  private waiting: ((msg: Record<string, unknown>) => void)[] = [];
  readonly onEvent: ((event: string, data: Record<string, unknown>) => void)[] = [];

  private constructor(private readonly sock: ReturnType<typeof connect>) {
    sock.on("data", (chunk) => {
      this.buf += chunk.toString();
      for (let nl = this.buf.indexOf("\n"); nl >= 0; nl = this.buf.indexOf("\n")) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as Record<string, unknown>;
        if ("event" in msg) for (const f of this.onEvent) f(String(msg.event), (msg.data ?? {}) as Record<string, unknown>);
        else if ("return" in msg || "error" in msg || "QMP" in msg) this.waiting.shift()?.(msg);
      }
    });
    sock.on("error", () => {});
  }

  static async connect(path: string, timeoutMs: number): Promise<Qmp> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const sock = await new Promise<ReturnType<typeof connect>>((resolve, reject) => {
          const s = connect(path, () => resolve(s));
          s.once("error", reject);
        });
        const qmp = new Qmp(sock);
        await qmp.next(); // greeting
        await qmp.execute("qmp_capabilities");
        return qmp;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await Bun.sleep(50);
      }
    }
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const answer = this.next();
    this.sock.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) })}\n`);
    const msg = await answer;
    if (msg.error) throw new Error(`QMP ${command}: ${JSON.stringify(msg.error)}`);
    return msg.return;
  }

  close(): void {
    this.sock.destroy();
  }
}
