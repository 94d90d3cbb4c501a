import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import type { AgentConnection } from "../../agent/protocol/api.ts";
import { connectAgent } from "../../agent/protocol/client.ts";
import { dialHybridVsock } from "../../agent/protocol/transports/hybrid-vsock.ts";
import { ShedError } from "../../api/errors.ts";
import type { BackendFeatures } from "../../api/schemas/info.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import { followFile } from "../../fs/follow-file.ts";
import { VERSION } from "../../version.ts";
import type { Backend, CreateOptions, DiskClaim, FoundInstance, Instance, InstanceData, InstanceSpec, InstanceStatus, ProbeResult, StopOptions } from "../backend.ts";
import { SharedAgentLink } from "../agent-link.ts";
import { waitForAgent } from "../agent-wait.ts";
import type { BackendContext } from "../context.ts";
import { type BootImage, prepareBootImage } from "../vm-boot/boot-image.ts";
import { FileMountSyncs, splitMounts } from "../vm-boot/file-sync.ts";
import { appendBootMarker, bootFailure, consoleTail, readConsole, stripControl } from "../vm-boot/console-log.ts";
import { makeUpperDisk, parseUpperSize } from "../vm-boot/upper-disk.ts";
import { removeLink, tapName, VmNetwork } from "../vm-network/index.ts";
import { FirecrackerClient, type FirecrackerRequest } from "./api-client.ts";
import { bootArgs, configureVm } from "./configure.ts";
import { vmDiskClaims } from "../vm-boot/disk-claims.ts";
import { allocateCid, type FirecrackerData, readInstanceFiles, socketPaths, writeInstanceFile } from "./instance-files.ts";
import { chooseJailer, JAILED, type JailerChoice, jailerArgv, jailId, jailOf, prepareJail } from "./jail.ts";
import { endFirecracker, firecrackerPid, launchFirecracker, waitFirecrackerGone } from "./launch.ts";
import { VMLINUX } from "./kernel.ts";
import { diodPid, ensureDiod, mountNineP, ninePShares, stopDiod, unmountNineP } from "./nine-p.ts";
import { probeFirecracker } from "./probe.ts";

/** Dial attempts (and the pause between them) before an agent counts as not answering. */
const DIAL_ATTEMPTS = 4;
const DIAL_RETRY_MS = 1000;
import type { FirecrackerSection } from "./section.ts";

/** What the factory does not set (tests may). */
export interface FirecrackerBackendOptions {
  upperSize?: string | number;
}

/** The agent's drain before the VM is asked to power off (seed 004: 5 s). */
const AGENT_DRAIN_MS = 5000;
const CTRL_ALT_DEL_AGAIN_MS = 10_000;

/**
 * A shed is a Firecracker microVM: the image's erofs root (shared, read-only) under the
 * shed's own ext4 disk, booted from an uncompressed vmlinux and the image's initramfs,
 * configured through Firecracker's API in its order (configure.ts) and reached over its
 * hybrid vsock. Firecracker runs detached with its pid file and sockets in the instance dir
 * (or socket_dir), so the server can die and come back without the VM noticing.
 */
export class FirecrackerBackend implements Backend {
  readonly name = "firecracker" as const;
  readonly features: BackendFeatures;
  private static readonly FEATURES = {
    // Host directories over 9P on the bridge (nine-p.ts): only with the bridge network.
    localDir: true,
    // Single files: copied in by tar over the agent at every boot, kept in sync (vm-boot/file-sync.ts).
    fileMounts: true,
    snapshots: false,
    suspend: false,
    vsock: true,
    shutdownHook: true,
    vm: true,
  } satisfies BackendFeatures;
  private readonly links = new Map<string, SharedAgentLink>();
  private readonly fileSyncs: FileMountSyncs;
  private readonly network: VmNetwork | undefined;
  /** Whether sheds run jailed, and by which jailer: decided once, here. */
  private readonly jailer: JailerChoice;

  constructor(
    private readonly ctx: BackendContext,
    private readonly section: FirecrackerSection,
    private readonly opts: FirecrackerBackendOptions = {},
  ) {
    this.network = undefined;
    this.jailer = chooseJailer(section);
    this.fileSyncs = new FileMountSyncs(ctx.logger);
    this.features = { ...FirecrackerBackend.FEATURES, localDir: section.network === "isolated" };
    if (section.network === "isolated") {
      this.network = new VmNetwork({ bridge: section.bridge_name, subnet: section.bridge_cidr, stateDir: ctx.stateDir, serverId: ctx.serverId, logger: ctx.logger });
      const want = section.bridge_cidr.split("/")[0];
      if (this.network.gateway().gateway !== want) {
        throw new ShedError("INVALID_CONFIG", `firecracker.bridge_cidr ${section.bridge_cidr}: the bridge takes the subnet's first address (${this.network.gateway().gateway}/${section.bridge_cidr.split("/")[1]})`);
      }
    }
  }

  private get root(): string {
    return this.section.instance_dir ?? join(this.ctx.stateDir, "firecracker", "instances");
  }

  probe(): Promise<ProbeResult> {
    return probeFirecracker(this.section);
  }

  private async bootImage(ref: string, progress: Progress): Promise<BootImage> {
    const boot = await prepareBootImage(this.ctx.images, ref, join(this.ctx.stateDir, "firecracker", "boot"), progress, this.section.kernel_path ? null : VMLINUX);
    if (this.section.kernel_path) {
      if (!existsSync(this.section.kernel_path)) {
        throw new ShedError("INVALID_CONFIG", `firecracker.kernel_path ${this.section.kernel_path} does not exist; build one with make kernel-fc or fix server.yaml`);
      }
      boot.kernel = this.section.kernel_path;
    }
    return boot;
  }

  private layout(name: string): Pick<FirecrackerData, "dir" | "pidFile" | "apiSocket" | "vsockSocket" | "console" | "upper" | "cid" | "jail"> {
    const dir = join(this.root, name);
    // Jailed, the sockets are where the jailed Firecracker makes them: in its jail's /run.
    const jail = this.jailer.jailed ? jailOf(this.section, jailId(this.section, name)) : undefined;
    const sockets = jail ? { api: join(jail.root, JAILED.apiSocket), vsock: join(jail.root, JAILED.vsock) } : socketPaths(dir, name, this.section.socket_dir);
    return {
      ...(jail ? { jail } : {}),
      dir,
      pidFile: join(dir, "firecracker.pid"),
      apiSocket: sockets.api,
      vsockSocket: sockets.vsock,
      console: join(dir, "console.log"),
      upper: join(dir, "upper.ext4"),
      cid: allocateCid(this.root, this.section.vsock_base_cid, name),
    };
  }

  async create(spec: InstanceSpec, progress: Progress, opts: CreateOptions = {}): Promise<InstanceData> {
    this.network?.preflight();
    progress({ id: "image", status: `preparing ${spec.image}` });
    const boot = await this.bootImage(spec.image, progress);
    const base = this.layout(spec.name);
    if (firecrackerPid(base)) {
      throw new ShedError("SHED_EXISTS", `a Firecracker for "${spec.name}" already runs from ${base.dir} but is not in shed's state; stop it (kill $(cat ${base.pidFile})) or pick another name`);
    }
    rmSync(base.dir, { recursive: true, force: true });
    mkdirSync(base.dir, { recursive: true, mode: 0o700 });
    const data: FirecrackerData = { ...base, lower: boot.lower, kernel: boot.kernel, initrd: boot.initrd, image: spec.image, imageDigest: boot.digest };
    try {
      progress({ id: "disk", status: "making the writable disk" });
      await makeUpperDisk(data.upper, spec.upperSizeBytes ?? parseUpperSize(this.opts.upperSize));
      await this.boot(spec, data, progress, opts.readyTimeoutMs);
      return data;
    } catch (err) {
      await this.removeAll(spec.name, data);
      throw err;
    }
  }

  /** Launches Firecracker on `data`, configures and starts the microVM, waits until the agent answers. */
  private async boot(spec: InstanceSpec, data: FirecrackerData, progress: Progress, readyTimeoutMs?: number): Promise<void> {
    if (this.network) {
      // A jailed Firecracker opens its tap as the jail's uid.
      const owner = data.jail && data.jail.uid !== 0 ? { uid: data.jail.uid, gid: data.jail.gid } : undefined;
      const nic = await this.network.attach(spec.name, owner);
      const ip = data.ip ?? (await this.network.allocateAddress(spec.name, this.addressesInUse(spec.name)));
      await this.network.reserve(spec.name, nic.mac, ip);
      Object.assign(data, { tap: nic.tap, mac: nic.mac, ip });
    }
    const { dirs, files } = splitMounts(spec.mounts);
    const shares = ninePShares(dirs);
    delete data.ninep;
    data.files = files.length ? files : undefined;
    if (shares.length) {
      if (!this.network) throw new ShedError("UNSUPPORTED", "host directories reach a Firecracker shed over 9P on its bridge: set firecracker.network: isolated");
      progress({ id: "mounts", status: `serving ${shares.length} host director${shares.length === 1 ? "y" : "ies"} over 9P` });
      await stopDiod(data.dir);
      data.ninep = await ensureDiod(this.section.diod_binary, data.dir, this.network.gateway().gateway, data.ip!, shares);
      await this.network.allowHostPort(data.ip!, data.ninep.port);
    }
    if (data.jail) await prepareJail(data.jail, { kernel: data.kernel, initrd: data.initrd, upper: data.upper, lower: data.lower });
    writeInstanceFile(spec.name, this.ctx.serverId, data);
    appendBootMarker(data.console, `firecracker${data.jail ? ` (jailed: ${data.jail.root})` : ""}, image ${data.imageDigest.slice(0, 19)}`);
    progress({ id: "vm", status: data.jail ? "starting Firecracker under its jailer" : "starting Firecracker" });
    const argv = data.jail
      ? jailerArgv(this.jailer.binary, this.section, data.jail, spec.cpus, spec.memoryMb)
      : [this.section.binary, "--api-sock", data.apiSocket, "--id", instanceId(spec.name)];
    const client = await launchFirecracker(argv, data, this.logRequest(spec.name));
    progress({ id: "vm", status: "configuring the microVM" });
    await configureVm(client, spec, data, bootArgs(spec, data, this.network?.gateway(), this.section.boot_args));
    progress({ id: "agent", status: "waiting for agent" });
    await waitForAgent({
      dial: () => this.dialOnce(data),
      // The connection that answered becomes the shared one: closing it and dialing again
      // would cost a second CONNECT and hello before the mounts and files below.
      keep: (conn) => this.link(spec.name, data).adopt(conn),
      timeoutMs: readyTimeoutMs ?? this.section.start_timeout * 1000,
      alive: async () => {
        if (firecrackerPid(data)) return undefined;
        this.dropLink(spec.name);
        return `the microVM stopped while booting: ${bootFailure(data.console)}\nconsole (${data.console}), last lines:\n${consoleTail(data.console)}`;
      },
    });
    progress({ id: "agent", status: "ready" });
    if (data.ninep) {
      progress({ id: "mounts", status: `mounting ${data.ninep.shares.length} host director${data.ninep.shares.length === 1 ? "y" : "ies"} over 9P` });
      await mountNineP(await this.dialData(spec.name, data), data.dir, data.ninep);
    }
    if (files.length) {
      progress({ id: "credentials", status: `copying ${files.length} file${files.length === 1 ? "" : "s"} in` });
      await this.syncFiles(spec.name, data, true);
    }
  }

  /** Single-file mounts in sync both ways while the shed runs (`push`: copied in first, at boot). */
  private async syncFiles(name: string, data: FirecrackerData, push: boolean): Promise<void> {
    await this.fileSyncs
      .start(name, data.files ?? [], () => this.dialData(name, data), push)
      .catch((err) => this.ctx.logger.warn("file credentials not synced", { name, error: String(err) }));
  }

  private logRequest(name: string): (r: FirecrackerRequest & { status: number }) => void {
    return (r) => this.ctx.logger.debug("firecracker api", { name, method: r.method, path: r.path, status: r.status });
  }

  private addressesInUse(except: string): string[] {
    return readInstanceFiles(this.root)
      .filter((m) => m.name !== except && m.serverId === this.ctx.serverId && m.data.ip)
      .map((m) => m.data.ip!);
  }

  async start(instance: Instance, progress: Progress): Promise<InstanceData> {
    const data = { ...(instance.data as FirecrackerData) };
    if (firecrackerPid(data)) {
      await waitForAgent({
        dial: () => this.dialData(instance.name, data),
        timeoutMs: this.section.start_timeout * 1000,
        alive: async () => (firecrackerPid(data) ? undefined : "the microVM stopped"),
      });
      return data;
    }
    this.network?.preflight();
    if (!existsSync(data.upper)) throw new ShedError("SHED_UNHEALTHY", `the writable disk of "${instance.name}" (${data.upper}) is gone; reset the shed to make a fresh one`);
    if (![data.lower, data.kernel, data.initrd].every((f) => existsSync(f))) {
      const boot = await this.bootImage(data.image ?? instance.spec.image, progress);
      Object.assign(data, { lower: boot.lower, kernel: boot.kernel, initrd: boot.initrd, imageDigest: boot.digest });
    }
    await this.boot(instance.spec, data, progress).catch(async (err) => {
      await endFirecracker(data);
      await this.stopNineP(data);
      throw err;
    });
    return data;
  }

  /**
   * Seed 004's stop: (the server ran the shutdown hook) the agent drains (5 s), Firecracker
   * sends the guest ctrl-alt-del (systemd powers off, the microVM exits), SIGKILL at the
   * deadline. A stop for a delete skips the drain and the power-off: the disk is discarded.
   */
  async stop(instance: Instance, timeoutMs: number, opts: StopOptions = {}): Promise<void> {
    this.fileSyncs.stop(instance.name);
    await this.stopVm(instance, timeoutMs, opts);
    const data = instance.data as FirecrackerData;
    // Whatever did not power off is killed; the guest's mounts went with it: its 9P server too.
    await endFirecracker(data);
    await this.stopNineP(data);
  }

  /** The shed's 9P server stopped and the guest's way to it closed. */
  private async stopNineP(data: Partial<FirecrackerData> & Pick<FirecrackerData, "dir">): Promise<void> {
    await stopDiod(data.dir);
    if (data.ninep && data.ip) await this.network?.revokeHostPort(data.ip, data.ninep.port);
  }

  /** The microVM powered off gracefully (agent drain, ctrl-alt-del) until the deadline; stop() kills what is left. */
  private async stopVm(instance: Instance, timeoutMs: number, opts: StopOptions): Promise<void> {
    const data = instance.data as FirecrackerData;
    if (!firecrackerPid(data)) {
      this.dropLink(instance.name);
      return;
    }
    // For a delete: no drain, no power-off; stop() kills it.
    if (opts.discard) {
      this.dropLink(instance.name);
      return;
    }
    const deadline = Date.now() + timeoutMs;
    try {
      const agent = await this.dialData(instance.name, data);
      // 9P mounts go first: at power-off the guest's network may be down before they are unmounted, and the unmount then waits on TCP.
      if (data.ninep) await withDeadline(unmountNineP(agent, data.ninep), 5000).catch(() => {});
      await withDeadline(agent.shutdown(Math.min(AGENT_DRAIN_MS, timeoutMs / 2)), Math.min(AGENT_DRAIN_MS + 1000, timeoutMs / 2));
    } catch (err) {
      this.ctx.logger.debug("agent drain skipped", { name: instance.name, error: String(err) });
    }
    this.dropLink(instance.name);
    // Ctrl-alt-del again every 10 s: one pressed while the guest is still starting is lost.
    const client = new FirecrackerClient(data.apiSocket, this.logRequest(instance.name));
    while (Date.now() < deadline) {
      try {
        await client.call("PUT /actions", { action_type: "SendCtrlAltDel" });
      } catch (err) {
        this.ctx.logger.warn("SendCtrlAltDel failed", { name: instance.name, error: String(err) });
      }
      if (await waitFirecrackerGone(data, Math.min(CTRL_ALT_DEL_AGAIN_MS, Math.max(0, deadline - Date.now())))) return;
    }
    this.ctx.logger.warn("microVM did not power off in time; killing Firecracker", { name: instance.name, timeoutMs });
  }

  async reset(instance: Instance, progress: Progress): Promise<InstanceData> {
    const data = instance.data as FirecrackerData;
    if (firecrackerPid(data)) throw new ShedError("SHED_NOT_STOPPED", `shed "${instance.name}" is running; stop it before a reset`);
    progress({ id: "disk", status: "making a fresh writable disk" });
    mkdirSync(data.dir, { recursive: true, mode: 0o700 });
    rmSync(data.upper, { force: true });
    await makeUpperDisk(data.upper, instance.spec.upperSizeBytes ?? parseUpperSize(this.opts.upperSize));
    return data;
  }

  async delete(instance: Instance): Promise<void> {
    const data = instance.data as Partial<FirecrackerData>;
    const dir = data.dir ?? join(this.root, instance.name);
    await this.removeAll(instance.name, { ...this.layoutOf(dir, instance.name), ...data });
  }

  /** Everything an instance owns: the process, its sockets, its dir, its tap and address. */
  private async removeAll(name: string, data: Pick<FirecrackerData, "dir" | "pidFile" | "apiSocket" | "vsockSocket"> & Partial<FirecrackerData>): Promise<void> {
    this.fileSyncs.stop(name);
    this.dropLink(name);
    await endFirecracker(data);
    await this.stopNineP(data);
    rmSync(data.dir, { recursive: true, force: true });
    for (const sock of [data.apiSocket, data.vsockSocket]) {
      rmSync(sock, { force: true });
      if (dirname(sock) !== data.dir && dirname(sock) !== this.section.socket_dir) rmSync(dirname(sock), { recursive: true, force: true });
    }
    await removeLink(data.tap ?? tapName(this.ctx.serverId, name)).catch(() => {});
    this.network?.release(name);
  }

  private layoutOf(dir: string, name: string): Pick<FirecrackerData, "dir" | "pidFile" | "apiSocket" | "vsockSocket"> {
    const sockets = socketPaths(dir, name, this.section.socket_dir);
    return { dir, pidFile: join(dir, "firecracker.pid"), apiSocket: sockets.api, vsockSocket: sockets.vsock };
  }

  async status(instance: Instance): Promise<InstanceStatus> {
    const data = instance.data as Partial<FirecrackerData>;
    if (!data.dir || !existsSync(data.dir)) return "missing";
    return firecrackerPid(data as FirecrackerData) ? "running" : "stopped";
  }

  dialAgent(instance: Instance): Promise<AgentConnection> {
    return this.dialData(instance.name, instance.data as FirecrackerData);
  }

  /** One CONNECT and hello, no retry: the boot wait polls on its own backoff (a retry's 1 s pause made readiness late). */
  private async dialOnce(data: FirecrackerData): Promise<AgentConnection> {
    return connectAgent(await dialHybridVsock(data.vsockSocket, this.section.console_port), { client: `shed-server ${VERSION}`, logger: this.ctx.logger });
  }

  private dialData(name: string, data: FirecrackerData): Promise<AgentConnection> {
    return this.link(name, data).acquire();
  }

  private link(name: string, data: FirecrackerData): SharedAgentLink {
    let link = this.links.get(name);
    if (!link) {
      // A guest whose previous connection just ended (a server killed and restarted) can
      // refuse the next CONNECT for a moment: try again, briefly, while the VM runs.
      const dial = async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await this.dialOnce(data);
          } catch (err) {
            if (attempt >= DIAL_ATTEMPTS || !firecrackerPid(data)) throw err;
            await Bun.sleep(DIAL_RETRY_MS);
          }
        }
      };
      link = new SharedAgentLink(dial, 10_000);
      this.links.set(name, link);
    }
    return link;
  }

  private dropLink(name: string): void {
    this.links.get(name)?.close();
    this.links.delete(name);
  }

  async list(): Promise<FoundInstance[]> {
    const found: FoundInstance[] = [];
    const bad = (file: string, err: unknown) => this.ctx.logger.warn("unreadable firecracker instance file", { file, error: String(err) });
    for (const meta of readInstanceFiles(this.root, bad)) {
      if (meta.serverId !== this.ctx.serverId) continue;
      found.push({ name: meta.name, status: firecrackerPid(meta.data) ? "running" : "stopped", data: meta.data });
    }
    // Re-adoption: running microVMs keep their network (bridge, rules, DHCP restored if gone).
    if (this.network && found.some((f) => f.status === "running")) {
      await this.network.ensure().catch((err) => this.ctx.logger.warn("VM network not restored", { error: String(err) }));
    }
    for (const f of found.filter((f) => f.status === "running")) {
      await this.readoptNineP(f.name, f.data as FirecrackerData);
      await this.syncFiles(f.name, f.data as FirecrackerData, false);
    }
    return found;
  }

  /** Instance dirs (sheds), their console logs, and the boot files made per image (vm-boot/disk-claims.ts). */
  async diskUsage(): Promise<DiskClaim[]> {
    return vmDiskClaims(
      readInstanceFiles(this.root).filter((m) => m.serverId === this.ctx.serverId),
      join(this.ctx.stateDir, "firecracker", "boot"),
    );
  }

  /**
   * A running shed's 9P server normally outlived the server's restart (detached): nothing to
   * do. One that died is started again on the same address and port, and the guest's stale
   * mounts are made again in the background (the agent may be slow to answer).
   */
  private async readoptNineP(name: string, data: FirecrackerData): Promise<void> {
    const ninep = data.ninep;
    if (!ninep) return;
    // The rules were made again at adoption: this guest's way to its 9P server too.
    if (data.ip) await this.network?.allowHostPort(data.ip, ninep.port).catch((err) => this.ctx.logger.warn("9P port not opened for the guest", { name, error: String(err) }));
    if (diodPid(data.dir)) return;
    try {
      await ensureDiod(this.section.diod_binary, data.dir, ninep.address, data.ip ?? "", ninep.shares, ninep.port);
    } catch (err) {
      this.ctx.logger.warn("9P server not restarted; host directories in the shed fail until it is restarted", { name, error: String(err) });
      return;
    }
    void this.dialData(name, data)
      .then((agent) => mountNineP(agent, data.dir, ninep, { remount: true }))
      .catch((err) => this.ctx.logger.warn("9P mounts not made again; restart the shed", { name, error: String(err) }));
  }

  async logs(instance: Instance, opts: { tailBytes?: number } = {}): Promise<string> {
    return readConsole(this.consolePath(instance), opts.tailBytes ?? 256 * 1024);
  }

  async followLogs(instance: Instance, opts: { lines?: number } = {}): Promise<ReadableStream<Uint8Array>> {
    return followFile(this.consolePath(instance), { lines: opts.lines, map: stripControl });
  }

  private consolePath(instance: Instance): string {
    return (instance.data as Partial<FirecrackerData>).console ?? join(this.root, instance.name, "console.log");
  }
}

/** Firecracker's --id: alphanumerics and hyphens, at most 64 (shed names fit). */
function instanceId(name: string): string {
  return `shed-${name}`.replace(/[^a-zA-Z0-9-]/g, "-").slice(0, 64);
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error("deadline")), ms))]);
}
