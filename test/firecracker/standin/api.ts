import { appendFileSync, existsSync, openSync, readSync, closeSync, statSync } from "node:fs";
import type {
  BootSource,
  Drive,
  InstanceActionInfo,
  MachineConfiguration,
  NetworkInterface,
  Vsock,
} from "../../../src/backends/firecracker/api-types.gen.ts";
import { type Contract, matchOperation, validate } from "../contract.ts";

/** One line of the request log: what came in and what Firecracker's answer was. */
export interface LoggedRequest {
  method: string;
  path: string;
  body?: unknown;
  status: number;
  fault_message?: string;
}

export class ApiFault extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const POST_BOOT = "The requested operation is not supported after starting the microVM.";
const PRE_BOOT = "The requested operation is not supported before starting the microVM.";

/** What the stand-in does on boot and on ctrl-alt-del (vm.ts, main.ts). */
export interface VmHooks {
  start(cfg: { machine: MachineConfiguration; boot: BootSource; drives: Drive[]; nets: NetworkInterface[]; vsock?: Vsock }): Promise<void>;
  ctrlAltDel(): Promise<void>;
  vsockConfigured(vsock: Vsock): Promise<void>;
}

/**
 * Firecracker's API as the stand-in serves it: every request matched to an operation of the
 * contract and its body validated against the contract's schema (contract.ts), the phase
 * rules the contract states ("Pre-boot only." / "Post-boot only."), Firecracker's checks of
 * the values (files, taps, ids, vCPU rules) and its answers: 204/200, else 400 with
 * `{"fault_message": ...}`. Operations the contract has but the stand-in does not emulate
 * are refused, never accepted silently.
 */
export class FirecrackerApi {
  private started = false;
  private machine: MachineConfiguration = { vcpu_count: 1, mem_size_mib: 128, smt: false, track_dirty_pages: false };
  private boot: BootSource | undefined;
  private readonly drives = new Map<string, Drive>();
  private readonly nets = new Map<string, NetworkInterface>();
  private vsock: Vsock | undefined;

  constructor(
    private readonly contract: Contract,
    private readonly id: string,
    private readonly hooks: VmHooks,
    private readonly logFile?: string,
    /** Whether a tap exists (by name, in this network namespace). */
    private readonly tapExists: (name: string) => boolean = () => true,
    /** Where a path Firecracker is given is on the host (under the jailer: inside its jail, main.ts). */
    private readonly resolve: (path: string) => string = (p) => p,
  ) {}

  async handle(method: string, path: string, text: string): Promise<{ status: number; body?: unknown }> {
    let body: unknown;
    let result: { status: number; body?: unknown };
    try {
      if (text.trim()) {
        try {
          body = JSON.parse(text);
        } catch (err) {
          throw new ApiFault(400, `${(err as Error).message} (not JSON)`);
        }
      }
      result = await this.dispatch(method, path, body, text.trim() !== "");
    } catch (err) {
      const status = err instanceof ApiFault ? err.status : 500;
      result = { status, body: { fault_message: (err as Error).message } };
    }
    if (this.logFile) {
      const line: LoggedRequest = { method, path, ...(body === undefined ? {} : { body }), status: result.status };
      if (result.status >= 300) line.fault_message = (result.body as { fault_message: string }).fault_message;
      appendFileSync(this.logFile, `${JSON.stringify(line)}\n`);
    }
    return result;
  }

  /** Applies a parsed configuration file (--config-file) as the API would, then boots. */
  async configure(config: Record<string, unknown>): Promise<void> {
    const full = { $ref: "#/definitions/FullVmConfiguration" };
    const fault = validate(this.contract, full, config);
    if (fault) throw new ApiFault(400, fault);
    if (config["machine-config"]) this.putMachine(config["machine-config"] as MachineConfiguration);
    if (config["boot-source"]) this.putBoot(config["boot-source"] as BootSource);
    for (const d of (config.drives ?? []) as Drive[]) this.putDrive(d.drive_id, d);
    for (const n of (config["network-interfaces"] ?? []) as NetworkInterface[]) this.putNet(n.iface_id, n);
    if (config.vsock) await this.putVsock(config.vsock as Vsock);
    await this.action({ action_type: "InstanceStart" });
  }

  private async dispatch(method: string, path: string, body: unknown, hasBody: boolean): Promise<{ status: number; body?: unknown }> {
    const found = matchOperation(this.contract, method, path);
    if (!found) throw new ApiFault(400, `Invalid request method and/or path: ${method} ${path.replace(/^\//, "")}.`);
    const { op, params } = found;
    if (op.body) {
      if (!hasBody) {
        if (op.bodyRequired) throw new ApiFault(400, `Empty ${method} request.`);
      } else {
        const fault = validate(this.contract, op.body, body);
        if (fault) throw new ApiFault(400, fault);
      }
    } else if (hasBody && method === "GET") {
      throw new ApiFault(400, "GET request cannot have a body.");
    }
    for (const [name, value] of Object.entries(params)) {
      if (!/^[a-zA-Z0-9_]+$/.test(value)) throw new ApiFault(400, `Invalid ID: ${name} can only contain alphanumeric characters and underscores.`);
      const inBody = (body as Record<string, unknown> | undefined)?.[name];
      if (inBody !== undefined && inBody !== value) throw new ApiFault(400, "The id from the path does not match the id from the body!");
    }
    if (op.phase === "pre-boot" && this.started) throw new ApiFault(400, POST_BOOT);
    if (op.phase === "post-boot" && !this.started) throw new ApiFault(400, PRE_BOOT);
    const key = `${op.method} ${op.path}`;
    switch (key) {
      case "GET /":
        return { status: 200, body: { app_name: "Firecracker", id: this.id, state: this.started ? "Running" : "Not started", vmm_version: this.contract.version } };
      case "GET /version":
        return { status: 200, body: { firecracker_version: this.contract.version } };
      case "GET /machine-config":
        return { status: 200, body: this.machine };
      case "GET /vm/config":
        return { status: 200, body: this.fullConfig() };
      case "PUT /machine-config":
        this.putMachine(body as MachineConfiguration);
        return { status: 204 };
      case "PATCH /machine-config":
        this.putMachine({ ...this.machine, ...(body as Partial<MachineConfiguration>) });
        return { status: 204 };
      case "PUT /boot-source":
        this.putBoot(body as BootSource);
        return { status: 204 };
      case "PUT /drives/{drive_id}":
        this.putDrive(params.drive_id!, body as Drive);
        return { status: 204 };
      case "PUT /network-interfaces/{iface_id}":
        this.putNet(params.iface_id!, body as NetworkInterface);
        return { status: 204 };
      case "PUT /vsock":
        await this.putVsock(body as Vsock);
        return { status: 204 };
      case "PUT /logger":
      case "PUT /metrics":
        // Accepted as Firecracker does; the stand-in's own log is the request log.
        return { status: 204 };
      case "PUT /actions":
        await this.action(body as InstanceActionInfo);
        return { status: 204 };
      default:
        throw new ApiFault(400, `firecracker stand-in: ${key} (${op.operationId}) is in the contract but not emulated`);
    }
  }

  private putMachine(m: MachineConfiguration): void {
    if (m.smt && m.vcpu_count > 1 && m.vcpu_count % 2 !== 0) {
      throw new ApiFault(400, "The vCPU number is invalid! The vCPU number can only be 1 or an even number when SMT is enabled.");
    }
    if (m.mem_size_mib < 1) throw new ApiFault(400, "The memory size (MiB) is invalid.");
    if (m.huge_pages === "2M" && m.mem_size_mib % 2 !== 0) throw new ApiFault(400, "The memory size (MiB) must be a multiple of 2 with 2M huge pages.");
    this.machine = { smt: false, track_dirty_pages: false, ...m };
  }

  private putBoot(b: BootSource): void {
    for (const [what, file] of [
      ["kernel", b.kernel_image_path],
      ["initrd", b.initrd_path],
    ] as const) {
      if (file !== undefined && !readable(this.resolve(file))) throw new ApiFault(400, `The ${what} file cannot be opened: No such file or directory (os error 2)`);
    }
    this.boot = b;
  }

  private putDrive(id: string, d: Drive): void {
    if (d.socket !== undefined) throw new ApiFault(400, "firecracker stand-in: vhost-user-block drives are not emulated");
    if (d.path_on_host === undefined || d.is_read_only === undefined) {
      throw new ApiFault(400, "Unable to create the virtio block device: path_on_host and is_read_only are required for a virtio-block drive");
    }
    if (!readable(this.resolve(d.path_on_host))) throw new ApiFault(400, `Unable to create the virtio block device: Virtio backend error: No such file or directory (os error 2) (${d.path_on_host})`);
    if (d.is_root_device && [...this.drives.values()].some((o) => o.is_root_device && o.drive_id !== id)) {
      throw new ApiFault(400, "A root block device already exists!");
    }
    this.drives.set(id, d);
  }

  private putNet(id: string, n: NetworkInterface): void {
    if (n.guest_mac !== undefined && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(n.guest_mac)) {
      throw new ApiFault(400, `Invalid MAC address: ${n.guest_mac}`);
    }
    for (const o of this.nets.values()) {
      if (o.iface_id === id) continue;
      if (o.host_dev_name === n.host_dev_name) throw new ApiFault(400, `The host device name ${n.host_dev_name} is already in use.`);
      if (n.guest_mac && o.guest_mac === n.guest_mac) throw new ApiFault(400, `The MAC address is already in use: ${n.guest_mac}`);
    }
    if (!this.tapExists(n.host_dev_name)) {
      throw new ApiFault(400, `Could not create the network device: Open tap device failed: Error while creating ifreq structure: No such device (os error 19). Invalid TUN/TAP Backend provided by ${n.host_dev_name}.`);
    }
    this.nets.set(id, n);
  }

  private async putVsock(v: Vsock): Promise<void> {
    if (this.vsock) throw new ApiFault(400, "firecracker stand-in: replacing the vsock device is not emulated");
    if (existsSync(this.resolve(v.uds_path))) {
      throw new ApiFault(400, `Cannot create backend for vsock device: UnixBind(Os { code: 98, kind: AddrInUse, message: "Address in use" })`);
    }
    await this.hooks.vsockConfigured({ ...v, uds_path: this.resolve(v.uds_path) });
    this.vsock = v;
  }

  private async action(a: InstanceActionInfo): Promise<void> {
    switch (a.action_type) {
      case "InstanceStart": {
        if (this.started) throw new ApiFault(400, POST_BOOT);
        if (!this.boot) throw new ApiFault(400, "Start microvm error: Cannot start microvm without kernel configuration.");
        if (!isElf(this.resolve(this.boot.kernel_image_path))) {
          throw new ApiFault(400, "Start microvm error: Cannot load kernel due to invalid memory configuration or invalid kernel image: Kernel Loader: failed to load ELF kernel image");
        }
        try {
          const boot = { ...this.boot, kernel_image_path: this.resolve(this.boot.kernel_image_path), ...(this.boot.initrd_path ? { initrd_path: this.resolve(this.boot.initrd_path) } : {}) };
          const drives = this.orderedDrives().map((d) => ({ ...d, path_on_host: this.resolve(d.path_on_host!) }));
          await this.hooks.start({ machine: this.machine, boot, drives, nets: [...this.nets.values()], vsock: this.vsock });
        } catch (err) {
          throw new ApiFault(400, `Start microvm error: ${(err as Error).message}`);
        }
        this.started = true;
        return;
      }
      case "SendCtrlAltDel":
        if (!this.started) throw new ApiFault(400, PRE_BOOT);
        await this.hooks.ctrlAltDel();
        return;
      case "FlushMetrics":
        throw new ApiFault(400, "firecracker stand-in: metrics are not emulated");
    }
  }

  private orderedDrives(): Drive[] {
    const all = [...this.drives.values()];
    return [...all.filter((d) => d.is_root_device), ...all.filter((d) => !d.is_root_device)];
  }

  private fullConfig(): Record<string, unknown> {
    return {
      "machine-config": this.machine,
      ...(this.boot ? { "boot-source": this.boot } : {}),
      drives: this.orderedDrives(),
      "network-interfaces": [...this.nets.values()],
      ...(this.vsock ? { vsock: this.vsock } : {}),
    };
  }
}

function readable(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Firecracker on x86_64 loads an uncompressed ELF vmlinux (a bzImage is refused). */
function isElf(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    return head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    closeSync(fd);
  }
}
