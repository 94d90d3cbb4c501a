import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { AgentConnection } from "../../agent/protocol/api.ts";
import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import { followFile } from "../../fs/follow-file.ts";
import { killByPidFile, runningPid, waitGone } from "../../proc/pid-file.ts";
import type { Backend, CreateOptions, DiskClaim, FoundInstance, Instance, InstanceData, InstanceSpec, InstanceStatus, ProbeResult } from "../backend.ts";
import { SharedAgentLink } from "../agent-link.ts";
import { waitForAgent } from "../agent-wait.ts";
import type { BackendContext } from "../context.ts";
import { prepareBootImage } from "../vm-boot/boot-image.ts";
import { checkUpperDisk } from "../vm-boot/disks.ts";
import { bootFailure, readConsole, stripControl } from "../vm-boot/console-log.ts";
import { makeUpperDisk, parseUpperSize } from "../vm-boot/upper-disk.ts";
import { upperFromTemplate } from "../vm-boot/upper-template.ts";
import { checkPaths, vfkitArgs, type VzLayout, type VzShare } from "./command.ts";
import { vmDiskClaims } from "../vm-boot/disk-claims.ts";
import { readVzInstances, type VzData, writeVzInstance } from "./instance-files.ts";
import { FileMountSyncs, splitMounts } from "../vm-boot/file-sync.ts";
import { mountVirtiofs, sharesOf } from "./shares.ts";
import type { VzSection } from "./section.ts";
import { launchVfkit, stopVfkit } from "./vfkit.ts";

/** Test and benchmark knobs the factory does not set. */
export interface VzBackendOptions {
  upperSize?: string | number;
}

/**
 * A shed is a Virtualization.framework VM run by vfkit (macOS, Apple Silicon): the image's
 * erofs root (read-only, shared) under the shed's own ext4 upper, booted with the image's
 * kernel and initramfs; the agent on vsock port 1024 behind a unix socket vfkit makes;
 * host directories over VirtioFS. vfkit runs detached with its pid file and sockets in the
 * shed's dirs, so the server can restart without the VM noticing.
 */
export class VzBackend implements Backend {
  readonly name = "vz" as const;
  readonly features = {
    // Directories over VirtioFS; single files copied in and kept in sync (vm-boot/file-sync.ts).
    localDir: true,
    fileMounts: true,
    snapshots: false,
    suspend: false,
    vsock: true,
    shutdownHook: true,
    vm: true,
  };
  private readonly links = new Map<string, SharedAgentLink>();
  private readonly fileSyncs: FileMountSyncs;
  private readonly binary: string;

  constructor(
    private readonly ctx: BackendContext,
    private readonly section: VzSection,
    private readonly opts: VzBackendOptions = {},
  ) {
    this.binary = section.vfkit_path ? expandHome(section.vfkit_path) : "vfkit";
    this.fileSyncs = new FileMountSyncs(ctx.logger);
  }

  private dirOf(key: "instance_dir" | "socket_dir" | "images_dir", fallback: string): string {
    const set = this.section[key];
    return set ? expandHome(set) : join(this.ctx.stateDir, "vz", fallback);
  }

  private layout(name: string): VzLayout {
    const dir = join(this.dirOf("instance_dir", "instances"), name);
    const sockets = join(this.dirOf("socket_dir", "sockets"), name);
    return {
      dir,
      upper: join(dir, "upper.ext4"),
      lower: "",
      kernel: "",
      initrd: "",
      console: join(dir, "console.log"),
      pidFile: join(dir, "vfkit.pid"),
      restSocket: join(sockets, "rest.sock"),
      agentSocket: join(sockets, "agent.sock"),
    };
  }

  async probe(): Promise<ProbeResult> {
    const path = Bun.which(this.binary);
    if (!path) return { ok: false, reason: `vfkit not found (${this.binary}): brew install vfkit, or set vz.vfkit_path in server.yaml` };
    if (!Bun.which("mkfs.ext4") && !Bun.which("mkfs.ext4", { PATH: "/usr/sbin:/sbin:/opt/homebrew/sbin:/opt/homebrew/opt/e2fsprogs/sbin" })) {
      return { ok: false, reason: "mkfs.ext4 not found: brew install e2fsprogs" };
    }
    return { ok: true };
  }

  async create(spec: InstanceSpec, progress: Progress, opts: CreateOptions = {}): Promise<InstanceData> {
    const base = this.layout(spec.name);
    const shares = sharesOf(spec);
    // Before anything is made: paths vfkit or macOS could not take.
    checkPaths(base, shares);
    if (runningPid(base.pidFile, base.dir)) {
      throw new ShedError("SHED_EXISTS", `a VM for "${spec.name}" is already running from ${base.dir} but is not in shed's state; stop it (kill $(cat ${base.pidFile})) or pick another name`);
    }
    progress({ id: "image", status: `preparing ${spec.image}` });
    const boot = await prepareBootImage(this.ctx.images, spec.image, join(this.dirOf("images_dir", "images"), "boot"), progress);
    const data: VzData = {
      ...base,
      lower: boot.lower,
      kernel: this.section.kernel_path ? expandHome(this.section.kernel_path) : boot.kernel,
      initrd: this.section.initrd_path ? expandHome(this.section.initrd_path) : boot.initrd,
      image: spec.image,
      imageDigest: boot.digest,
      ...(this.section.network === "nat" ? { mac: macFor(this.ctx.serverId, spec.name) } : {}),
    };
    checkPaths(data, shares);
    this.removeFiles(data);
    mkdirSync(data.dir, { recursive: true, mode: 0o700 });
    mkdirSync(join(data.restSocket, ".."), { recursive: true, mode: 0o700 });
    try {
      progress({ id: "disk", status: "making the writable disk" });
      data.upperMethod = await this.makeUpper(data.upper, spec);
      await this.boot(spec, data, progress, opts.readyTimeoutMs);
      return data;
    } catch (err) {
      this.dropLink(spec.name);
      // HardStop first: vfkit then ends the VM and removes what it made itself.
      await stopVfkit(data, Date.now(), () => {});
      this.removeFiles(data);
      throw err;
    }
  }

  private async makeUpper(path: string, spec: InstanceSpec): Promise<VzData["upperMethod"]> {
    const size = spec.upperSizeBytes ?? parseUpperSize(this.opts.upperSize);
    if (!this.section.upper_template) {
      await makeUpperDisk(path, size);
      return "mkfs";
    }
    return upperFromTemplate(path, size, join(this.dirOf("images_dir", "images"), "templates"));
  }

  /** Launches vfkit on `data`, waits for the agent, mounts the VirtioFS shares (a failed mount fails the boot). */
  private async boot(spec: InstanceSpec, data: VzData, progress: Progress, readyTimeoutMs?: number): Promise<void> {
    const shares = sharesOf(spec);
    const args = vfkitArgs({ name: spec.name, cpus: spec.cpus, memoryMb: spec.memoryMb, shares, mac: data.mac }, data);
    writeVzInstance(spec.name, this.ctx.serverId, data);
    // vfkit overwrites the console log on every boot: the last one is kept beside it.
    if (existsSync(data.console)) renameSync(data.console, `${data.console}.1`);
    progress({ id: "vm", status: "starting vfkit" });
    await launchVfkit(this.binary, args, data);
    progress({ id: "agent", status: "waiting for agent" });
    await waitForAgent({
      dial: () => this.dialData(spec.name, data),
      timeoutMs: readyTimeoutMs ?? this.section.start_timeout * 1000,
      alive: async () => {
        if (runningPid(data.pidFile, data.dir)) return undefined;
        this.dropLink(spec.name);
        return `the VM stopped while booting: ${bootFailure(data.console)} (console log: ${data.console})`;
      },
    });
    if (shares.length) {
      progress({ id: "mounts", status: `mounting ${shares.length} host director${shares.length === 1 ? "y" : "ies"} over VirtioFS` });
      await mountVirtiofs(await this.dialData(spec.name, data), shares);
    }
    await this.fileSyncs
      .start(spec.name, splitMounts(spec.mounts).files, () => this.dialData(spec.name, data), true)
      .catch((err) => this.ctx.logger.warn("file credentials not synced", { name: spec.name, error: String(err) }));
    progress({ id: "agent", status: "ready" });
  }

  async start(instance: Instance, progress: Progress): Promise<InstanceData> {
    const data = { ...(instance.data as VzData) };
    if (runningPid(data.pidFile, data.dir)) {
      await waitForAgent({
        dial: () => this.dialData(instance.name, data),
        timeoutMs: this.section.start_timeout * 1000,
        alive: async () => (runningPid(data.pidFile, data.dir) ? undefined : "the VM stopped"),
      });
      return data;
    }
    checkUpperDisk(data.upper, instance.name);
    if (![data.lower, data.kernel, data.initrd].every((f) => existsSync(f))) {
      const boot = await prepareBootImage(this.ctx.images, data.image, join(this.dirOf("images_dir", "images"), "boot"), progress);
      Object.assign(data, {
        lower: boot.lower,
        kernel: this.section.kernel_path ? expandHome(this.section.kernel_path) : boot.kernel,
        initrd: this.section.initrd_path ? expandHome(this.section.initrd_path) : boot.initrd,
        imageDigest: boot.digest,
      });
    }
    mkdirSync(join(data.restSocket, ".."), { recursive: true, mode: 0o700 });
    await this.boot(instance.spec, data, progress).catch(async (err) => {
      this.dropLink(instance.name);
      await stopVfkit(data, Date.now(), () => {});
      throw err;
    });
    return data;
  }

  async stop(instance: Instance, timeoutMs: number): Promise<void> {
    this.fileSyncs.stop(instance.name);
    const data = instance.data as VzData;
    if (!data.pidFile || !runningPid(data.pidFile, data.dir)) {
      this.dropLink(instance.name);
      return;
    }
    const deadline = Date.now() + timeoutMs;
    // The agent finishes what runs (bounded), then the guest powers off by its power button.
    try {
      const agent = await this.dialData(instance.name, data);
      await withDeadline(agent.shutdown(Math.min(5000, timeoutMs / 4)), Math.min(7000, timeoutMs / 3));
    } catch (err) {
      this.ctx.logger.debug("agent shutdown skipped", { name: instance.name, error: String(err) });
    }
    this.dropLink(instance.name);
    await stopVfkit(data, deadline, (msg, extra) => this.ctx.logger.warn(msg, { name: instance.name, ...extra }));
  }

  async reset(instance: Instance, progress: Progress): Promise<InstanceData> {
    const data = { ...(instance.data as VzData) };
    if (runningPid(data.pidFile, data.dir)) throw new ShedError("SHED_NOT_STOPPED", `shed "${instance.name}" is running; stop it before a reset`);
    progress({ id: "disk", status: "making a fresh writable disk" });
    mkdirSync(data.dir, { recursive: true, mode: 0o700 });
    rmSync(data.upper, { force: true });
    data.upperMethod = await this.makeUpper(data.upper, instance.spec);
    writeVzInstance(instance.name, this.ctx.serverId, data);
    return data;
  }

  async delete(instance: Instance): Promise<void> {
    const data = { ...this.layout(instance.name), ...(instance.data as Partial<VzData>) };
    this.fileSyncs.stop(instance.name);
    this.dropLink(instance.name);
    killByPidFile(data.pidFile, data.dir, "SIGKILL");
    await waitGone(data.pidFile, data.dir, 5000);
    this.removeFiles(data);
  }

  private removeFiles(data: Pick<VzLayout, "dir" | "restSocket">): void {
    rmSync(data.dir, { recursive: true, force: true });
    rmSync(join(data.restSocket, ".."), { recursive: true, force: true });
  }

  async status(instance: Instance): Promise<InstanceStatus> {
    const data = instance.data as Partial<VzData>;
    if (!data.dir || !existsSync(data.dir)) return "missing";
    return runningPid(data.pidFile!, data.dir) ? "running" : "stopped";
  }

  dialAgent(instance: Instance): Promise<AgentConnection> {
    return this.dialData(instance.name, instance.data as VzData);
  }

  private dialData(name: string, data: VzData): Promise<AgentConnection> {
    let link = this.links.get(name);
    if (!link) {
      // vfkit makes one vsock stream per connection; serial-mode hello (said again until
      // answered, stale bytes skipped) costs nothing on a fresh stream and keeps one link per VM.
      link = new SharedAgentLink(() => this.ctx.dialAgent(data.agentSocket, { serial: true }));
      this.links.set(name, link);
    }
    return link.acquire();
  }

  private dropLink(name: string): void {
    this.links.get(name)?.close();
    this.links.delete(name);
  }

  async list(): Promise<FoundInstance[]> {
    const bad = (file: string, err: unknown) => this.ctx.logger.warn("unreadable vz instance file", { file, error: String(err) });
    return readVzInstances(this.dirOf("instance_dir", "instances"), bad)
      .filter((m) => m.serverId === this.ctx.serverId)
      .map((m) => ({ name: m.name, status: runningPid(m.data.pidFile, m.data.dir) ? "running" : "stopped", data: m.data }));
  }

  /** Instance dirs (sheds), their console logs, and the boot files made per image (vm-boot/disk-claims.ts). */
  async diskUsage(): Promise<DiskClaim[]> {
    return vmDiskClaims(
      readVzInstances(this.dirOf("instance_dir", "instances")).filter((m) => m.serverId === this.ctx.serverId),
      join(this.dirOf("images_dir", "images"), "boot"),
    );
  }

  async logs(instance: Instance, opts: { tailBytes?: number } = {}): Promise<string> {
    return readConsole(this.consolePath(instance), opts.tailBytes ?? 256 * 1024);
  }

  async followLogs(instance: Instance, opts: { lines?: number } = {}): Promise<ReadableStream<Uint8Array>> {
    return followFile(this.consolePath(instance), { lines: opts.lines, map: stripControl });
  }

  private consolePath(instance: Instance): string {
    return (instance.data as Partial<VzData>).console ?? this.layout(instance.name).console;
  }
}

/** A stable, locally administered MAC per server and shed. */
function macFor(serverId: string, name: string): string {
  const h = new Bun.CryptoHasher("sha256").update(`${serverId}/${name}`).digest();
  return ["02", ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, "0"))].join(":");
}

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error("deadline")), ms))]);
}

export type { VzShare };
