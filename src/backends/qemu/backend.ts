import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { AgentConnection } from "../../agent/protocol/api.ts";
import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import type {
  Backend,
  CreateOptions,
  DiskClaim,
  FoundInstance,
  Instance,
  InstanceData,
  InstanceSpec,
  InstanceStatus,
  ProbeResult,
} from "../backend.ts";
import { waitForAgent } from "../agent-wait.ts";
import type { BackendContext } from "../context.ts";
import { type BootImage, prepareBootImage } from "../vm-boot/boot-image.ts";
import { removeLink, tapName, VmNetwork } from "../vm-network/index.ts";
import { Accelerator, knownKernels } from "./accel.ts";
import { SharedAgentLink } from "../agent-link.ts";
import { defaultBinary, type VmLayout } from "./command.ts";
import { followFile } from "../../fs/follow-file.ts";
import { appendBootMarker, bootFailure, readConsole, stripControl } from "../vm-boot/console-log.ts";
import { makeUpperDisk, parseUpperSize } from "../vm-boot/upper-disk.ts";
import { checkUpperDisk } from "../vm-boot/disks.ts";
import { allocateCid, type QemuData, readInstanceFiles, socketPath, writeInstanceFile } from "./instance-files.ts";
import { qmpOnce } from "./qmp.ts";
import { launchWatchingKvm } from "./kvm-fallback.ts";
import { probeQemu } from "./probe.ts";
import type { QemuSection } from "./section.ts";
import { mountShares, sharesOf } from "./shares.ts";
import { killByPidFile, runningPid, waitGone } from "../../proc/pid-file.ts";
import { startVm } from "./vm-start.ts";
import { vmSnapshots } from "../vm-boot/vm-snapshots.ts";
import { vmDiskClaims } from "../vm-boot/disk-claims.ts";

/** How often the ACPI power button is pressed again while a VM shuts down. */
const POWER_BUTTON_REPEAT_MS = 10_000;

/** What the factory does not set (tests and hosts with vhost-vsock may). */
export interface QemuBackendOptions {
  /** Size of a new shed's writable disk (sparse): "5G" by default. */
  upperSize?: string | number;
  /** For hosts with /dev/vhost-vsock: the agent's vsock port on guest `cid`. */
  dialVsock?: (cid: number, port: number) => Promise<AgentConnection>;
  /** How long a boot may take until the agent answers (TCG is slow: minutes). */
  agentTimeoutMs?: number;
  /** Use vhost-vsock when the host has it (default true). */
  vsock?: boolean;
}

export const AGENT_VSOCK_PORT = 1024;

/**
 * A shed is a QEMU VM: the image's erofs root (shared, read-only) under the shed's own ext4
 * disk, booted with the image's kernel and initramfs (guest/README.md). QEMU runs detached
 * with its pid file, QMP socket, agent socket and console log in the instance dir, so the
 * server can die and come back without the VM noticing; it runs confined (vm-start.ts:
 * unprivileged, sandboxed) on the server's isolated VM network (../vm-network).
 */
export class QemuBackend implements Backend {
  readonly name = "qemu" as const;
  readonly features = {
    // Directories over virtio-9p; single files are copied in by the provisioner.
    localDir: true,
    fileMounts: false,
    snapshots: true,
    suspend: false,
    vsock: false,
    shutdownHook: true,
    vm: true,
  };
  readonly snapshots = vmSnapshots(this, () => this.ctx.images);
  private readonly binary: string;
  private readonly accelerator: Accelerator;
  private readonly links = new Map<string, SharedAgentLink>();
  /** The isolated VM network (`qemu.network: isolated`); undefined: VMs get no NIC. */
  private readonly network: VmNetwork | undefined;

  constructor(
    private readonly ctx: BackendContext,
    private readonly section: QemuSection,
    private readonly opts: QemuBackendOptions = {},
  ) {
    const { stateDir, serverId, logger } = ctx;
    this.binary = section.binary ?? defaultBinary();
    this.accelerator = new Accelerator({
      setting: section.accel,
      binary: this.binary,
      cacheFile: join(stateDir, "qemu", "accel.json"),
      kernels: () => knownKernels(stateDir),
      logger,
    });
    this.network =
      section.network === "isolated" ? new VmNetwork({ bridge: section.bridge, subnet: section.subnet, stateDir, serverId, logger }) : undefined;
    this.features.vsock = this.useVsock();
  }

  private get root(): string {
    return join(this.ctx.stateDir, "qemu", "instances");
  }

  /** The image's erofs root, kernel and initramfs, through the server's image source. */
  private bootImage(ref: string, progress: Progress): Promise<BootImage> {
    return prepareBootImage(this.ctx.images, ref, join(this.ctx.stateDir, "qemu", "boot"), progress);
  }

  private useVsock(): boolean {
    return (this.opts.vsock ?? true) && !!this.opts.dialVsock && existsSync("/dev/vhost-vsock");
  }

  probe(): Promise<ProbeResult> {
    return probeQemu(this.binary, this.accelerator);
  }

  private layout(name: string, cid?: number): VmLayout {
    const dir = join(this.root, name);
    return {
      dir,
      upper: join(dir, "upper.ext4"),
      lower: "",
      kernel: "",
      initrd: "",
      console: join(dir, "console.log"),
      pidFile: join(dir, "qemu.pid"),
      qmpSocket: socketPath(dir, "qmp.sock"),
      ...(cid ? { vsockCid: cid } : { agentSocket: socketPath(dir, "agent.sock") }),
    };
  }

  create(spec: InstanceSpec, progress: Progress, opts: CreateOptions = {}): Promise<InstanceData> {
    return this.createWith(spec, progress, opts, async (upper) => {
      progress({ id: "disk", status: "making the writable disk" });
      await makeUpperDisk(upper, spec.upperSizeBytes ?? parseUpperSize(this.opts.upperSize));
    });
  }

  /** A new VM whose upper disk `makeDisk` makes (a fresh one, or a snapshot's copy), booted until the agent answers. */
  async createWith(spec: InstanceSpec, progress: Progress, opts: CreateOptions, makeDisk: (upper: string) => Promise<void>): Promise<InstanceData> {
    // Before any work: a host that cannot isolate VMs says so at once (never falls back).
    this.network?.preflight();
    progress({ id: "image", status: `preparing ${spec.image}` });
    const boot = await this.bootImage(spec.image, progress);
    const base = this.layout(spec.name, this.useVsock() ? allocateCid(this.root) : undefined);
    if (runningPid(base.pidFile, base.dir)) {
      throw new ShedError(
        "SHED_EXISTS",
        `a VM for "${spec.name}" is already running from ${base.dir} but is not in shed's state; stop it (kill $(cat ${base.pidFile})) or pick another name`,
      );
    }
    rmSync(base.dir, { recursive: true, force: true });
    mkdirSync(base.dir, { recursive: true, mode: 0o700 });
    const data: QemuData = {
      ...base,
      lower: boot.lower,
      kernel: boot.kernel,
      initrd: boot.initrd,
      image: spec.image,
      imageDigest: boot.digest,
      accel: "",
      machineId: crypto.randomUUID().replaceAll("-", ""),
    };
    try {
      await makeDisk(data.upper);
      await this.boot(spec, data, progress, opts.readyTimeoutMs);
      return data;
    } catch (err) {
      this.dropLink(spec.name);
      killByPidFile(data.pidFile, data.dir);
      await removeLink(tapName(this.ctx.serverId, spec.name)).catch(() => {});
      // Keep nothing but what explains the failure: the error carries the console's last words.
      rmSync(data.dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Launches QEMU on `data` and waits until the agent answers. */
  private async boot(spec: InstanceSpec, data: QemuData, progress: Progress, readyTimeoutMs?: number): Promise<void> {
    // auto: KVM is decided by booting this VM's own kernel once (the choice is then cached).
    const { accel } = (await this.accelerator.choose(data.kernel))!;
    data.accel = accel;
    writeInstanceFile(spec.name, this.ctx.serverId, data);
    appendBootMarker(data.console, `accel ${accel}, image ${data.imageDigest.slice(0, 19)}`);
    progress({ id: "vm", status: `booting (${accel})` });
    const shares = sharesOf(spec);
    const vmm = { binary: this.binary, network: this.network, runAs: this.section.run_as };
    const watch = {
      accel,
      name: spec.name,
      console: data.console,
      progress,
      launch: () => startVm(vmm, { name: spec.name, cpus: spec.cpus, memoryMb: spec.memoryMb, accel, shares }, data),
      running: () => !!runningPid(data.pidFile, data.dir),
      stop: () => {
        killByPidFile(data.pidFile, data.dir);
        return waitGone(data.pidFile, data.dir, 5000);
      },
    };
    // A VM silent under KVM: stopped, and booted again under TCG (auto) or failed (kvm forced).
    if (await launchWatchingKvm(this.accelerator, watch)) return this.boot(spec, data, progress, readyTimeoutMs);
    progress({ id: "agent", status: "waiting for agent" });
    await waitForAgent({
      dial: () => this.dialData(spec.name, data),
      timeoutMs: readyTimeoutMs ?? this.opts.agentTimeoutMs ?? (accel === "kvm" ? 60_000 : 300_000),
      alive: async () => {
        if (runningPid(data.pidFile, data.dir)) return undefined;
        this.dropLink(spec.name);
        return `the VM stopped while booting: ${bootFailure(data.console)} (console log: ${data.console})`;
      },
    });
    if (shares.length) {
      progress({ id: "mounts", status: `mounting ${shares.length} host director${shares.length === 1 ? "y" : "ies"}` });
      await mountShares(await this.dialData(spec.name, data), shares, data.vmm);
    }
    progress({ id: "agent", status: "ready" });
  }

  async start(instance: Instance, progress: Progress): Promise<InstanceData> {
    const data = { ...(instance.data as QemuData) };
    if (runningPid(data.pidFile, data.dir)) {
      await this.waitReadyOnly(instance.name, data);
      return data;
    }
    this.network?.preflight();
    checkUpperDisk(data.upper, instance.name);
    if (![data.lower, data.kernel, data.initrd].every((f) => existsSync(f))) {
      // The image cache was cleaned: make the boot files again from the image.
      const boot = await this.bootImage(data.image ?? instance.spec.image, progress);
      Object.assign(data, { lower: boot.lower, kernel: boot.kernel, initrd: boot.initrd, imageDigest: boot.digest });
    }
    await this.boot(instance.spec, data, progress).catch((err) => {
      killByPidFile(data.pidFile, data.dir);
      throw err;
    });
    return data;
  }

  private async waitReadyOnly(name: string, data: QemuData): Promise<void> {
    await waitForAgent({
      dial: () => this.dialData(name, data),
      timeoutMs: this.opts.agentTimeoutMs ?? 300_000,
      alive: async () => (runningPid(data.pidFile, data.dir) ? undefined : "the VM stopped"),
    });
  }

  async stop(instance: Instance, timeoutMs: number): Promise<void> {
    const data = instance.data as QemuData;
    if (!data.pidFile || !runningPid(data.pidFile, data.dir)) {
      this.dropLink(instance.name);
      return;
    }
    const deadline = Date.now() + timeoutMs;
    // 1. The agent finishes what runs (bounded), 2. ACPI power button: systemd shuts down
    // cleanly, 3. at the deadline QEMU is ended (quit, then SIGKILL).
    try {
      const agent = await this.dialData(instance.name, data);
      await withDeadline(agent.shutdown(Math.min(2000, timeoutMs / 4)), Math.min(5000, timeoutMs / 3));
    } catch (err) {
      this.ctx.logger.debug("agent shutdown skipped", { name: instance.name, error: String(err) });
    }
    this.dropLink(instance.name);
    // A press that lands before the guest listens for the power button (just after boot) is
    // lost, so it is pressed again every few seconds until the VM is gone or the deadline.
    for (let press = 0; Date.now() < deadline; press++) {
      try {
        await qmpOnce(data.qmpSocket, "system_powerdown");
      } catch (err) {
        if (press === 0) this.ctx.logger.warn("ACPI power-off failed", { name: instance.name, error: String(err) });
      }
      const slice = Math.min(POWER_BUTTON_REPEAT_MS, Math.max(0, deadline - Date.now()));
      if (await waitGone(data.pidFile, data.dir, slice)) return;
    }
    this.ctx.logger.warn("VM did not power off in time; ending it", { name: instance.name, timeoutMs });
    await qmpOnce(data.qmpSocket, "quit").catch(() => {});
    if (await waitGone(data.pidFile, data.dir, 2000)) return;
    killByPidFile(data.pidFile, data.dir, "SIGKILL");
    await waitGone(data.pidFile, data.dir, 5000);
  }

  async reset(instance: Instance, progress: Progress): Promise<InstanceData> {
    const data = instance.data as QemuData;
    if (runningPid(data.pidFile, data.dir)) {
      throw new ShedError("SHED_NOT_STOPPED", `shed "${instance.name}" is running; stop it before a reset`);
    }
    progress({ id: "disk", status: "making a fresh writable disk" });
    mkdirSync(data.dir, { recursive: true, mode: 0o700 });
    rmSync(data.upper, { force: true });
    await makeUpperDisk(data.upper, instance.spec.upperSizeBytes ?? parseUpperSize(this.opts.upperSize));
    // A fresh disk is a fresh machine: a new machine-id (host keys come new with the disk).
    return { ...data, ...(data.machineId ? { machineId: crypto.randomUUID().replaceAll("-", "") } : {}) };
  }

  async delete(instance: Instance): Promise<void> {
    const data = instance.data as Partial<QemuData>;
    const dir = data.dir ?? join(this.root, instance.name);
    const pidFile = data.pidFile ?? join(dir, "qemu.pid");
    this.dropLink(instance.name);
    killByPidFile(pidFile, dir, "SIGKILL");
    await waitGone(pidFile, dir, 5000);
    rmSync(dir, { recursive: true, force: true });
    const sockets = data.qmpSocket ? join(data.qmpSocket, "..") : undefined;
    if (sockets && sockets !== dir) rmSync(sockets, { recursive: true, force: true });
    // Its tap: the record's, or the one its name gives (delete --force without a record).
    await removeLink(data.tap ?? tapName(this.ctx.serverId, instance.name));
  }

  async status(instance: Instance): Promise<InstanceStatus> {
    const data = instance.data as Partial<QemuData>;
    if (!data.dir || !existsSync(data.dir)) return "missing";
    return runningPid(data.pidFile!, data.dir) ? "running" : "stopped";
  }

  dialAgent(instance: Instance): Promise<AgentConnection> {
    return this.dialData(instance.name, instance.data as QemuData);
  }

  private dialData(name: string, data: QemuData): Promise<AgentConnection> {
    if (data.vsockCid) {
      if (!this.opts.dialVsock) throw new ShedError("UNSUPPORTED", "this server cannot dial vsock");
      return this.opts.dialVsock(data.vsockCid, AGENT_VSOCK_PORT);
    }
    let link = this.links.get(name);
    if (!link) {
      // A virtio-serial port behind QEMU's socket: one byte stream the guest may still hold stale bytes on.
      link = new SharedAgentLink(() => this.ctx.dialAgent(data.agentSocket!, { serial: true }));
      this.links.set(name, link);
    }
    return link.acquire();
  }

  private dropLink(name: string): void {
    this.links.get(name)?.close();
    this.links.delete(name);
  }

  async list(): Promise<FoundInstance[]> {
    const found: FoundInstance[] = [];
    const bad = (file: string, err: unknown) => this.ctx.logger.warn("unreadable qemu instance file", { file, error: String(err) });
    for (const meta of readInstanceFiles(this.root, bad)) {
      if (meta.serverId !== this.ctx.serverId) continue;
      const running = !!runningPid(meta.data.pidFile, meta.data.dir);
      found.push({ name: meta.name, status: running ? "running" : "stopped", data: meta.data });
    }
    // Re-adoption after a restart: running VMs keep their network (dnsmasq restarted if it died).
    if (this.network && found.some((f) => f.status === "running")) {
      await this.network.ensure().catch((err) => this.ctx.logger.warn("VM network not restored", { error: String(err) }));
    }
    return found;
  }

  /** Instance dirs (sheds), their console logs, and the boot files made per image. */
  async diskUsage(): Promise<DiskClaim[]> {
    return vmDiskClaims(
      readInstanceFiles(this.root).filter((m) => m.serverId === this.ctx.serverId),
      join(this.ctx.stateDir, "qemu", "boot"),
    );
  }

  /** The console log of the shed's VM (kernel, init, systemd), newest last. */
  async logs(instance: Instance, opts: { tailBytes?: number } = {}): Promise<string> {
    return readConsole(this.consolePath(instance), opts.tailBytes ?? 256 * 1024);
  }

  async followLogs(instance: Instance, opts: { lines?: number } = {}): Promise<ReadableStream<Uint8Array>> {
    return followFile(this.consolePath(instance), { lines: opts.lines, map: stripControl });
  }

  private consolePath(instance: Instance): string {
    return (instance.data as Partial<QemuData>).console ?? join(this.root, instance.name, "console.log");
  }
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error("deadline")), ms))]);
}
