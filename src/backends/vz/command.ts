import { ShedError } from "../../api/errors.ts";

/**
 * vfkit's command line for a shed VM, as a pure function (unit-tested against the vfkit
 * stand-in's grammar). vfkit's device options are `key=value` split on every comma, with no
 * escape, so a path with a comma cannot be said at all: such paths are refused here, before
 * anything starts, as are socket paths longer than macOS allows.
 */

/** macOS's sun_path is 104 bytes, the terminating NUL included (vfkit's own check for --restful-uri). */
export const MACOS_SOCKET_PATH_MAX = 103;

/** The guest agent's vsock port (guest/systemd/agent-start listens on vsock:1024). */
export const AGENT_VSOCK_PORT = 1024;

export type VzLayout = {
  dir: string;
  upper: string;
  lower: string;
  kernel: string;
  initrd: string;
  console: string;
  pidFile: string;
  /** vfkit's REST API (GET/POST /vm/state). */
  restSocket: string;
  /** The agent's vsock port as a unix socket (vfkit `connect` mode: the host dials, the guest listens). */
  agentSocket: string;
};

export interface VzShare {
  /** VirtioFS tag (VZ: at most 36 bytes). */
  tag: string;
  path: string;
  target: string;
  readonly: boolean;
}

export interface VzSettings {
  name: string;
  cpus: number;
  memoryMb: number;
  shares: VzShare[];
  /** A NIC on vfkit's NAT with this MAC; absent: no network device. */
  mac?: string;
}

export function kernelCmdline(name: string): string {
  // hvc0: VZ's console is a virtio console (vfkit's virtio-serial device).
  return ["console=hvc0", "shed.upper=/dev/vda", "shed.lower=/dev/vdb", `shed.name=${name}`, "shed.agent=vsock", "panic=-1", "quiet", "loglevel=4"].join(" ");
}

/** vfkit's argv (without the program): the boot chain's disks in order, vsock, VirtioFS, console, REST. */
export function vfkitArgs(s: VzSettings, l: VzLayout): string[] {
  checkPaths(l, s.shares);
  const cmdline = kernelCmdline(s.name);
  const args = [
    "--cpus",
    String(Math.max(1, Math.round(s.cpus))),
    "--memory",
    String(Math.round(s.memoryMb)),
    "--bootloader",
    `linux,kernel=${l.kernel},initrd=${l.initrd},cmdline="${cmdline}"`,
    "--pidfile",
    l.pidFile,
    "--restful-uri",
    `unix://${l.restSocket}`,
    // vda = the shed's upper, vdb = the image's lower (read-only, shared by every shed of the image).
    "--device",
    `virtio-blk,path=${l.upper}`,
    "--device",
    `virtio-blk,path=${l.lower},readonly`,
    "--device",
    `virtio-vsock,port=${AGENT_VSOCK_PORT},socketURL=${l.agentSocket},connect`,
    "--device",
    `virtio-serial,logFilePath=${l.console}`,
    "--device",
    "virtio-rng",
  ];
  if (s.mac) args.push("--device", `virtio-net,nat,mac=${s.mac}`);
  for (const share of s.shares) args.push("--device", `virtio-fs,sharedDir=${share.path},mountTag=${share.tag}`);
  return args;
}

/** Refuses what vfkit could not be told: commas in device paths, sockets past macOS's limit. */
export function checkPaths(l: VzLayout, shares: VzShare[]): void {
  for (const socket of [l.restSocket, l.agentSocket]) {
    const bytes = Buffer.byteLength(socket);
    if (bytes > MACOS_SOCKET_PATH_MAX) {
      throw new ShedError(
        "INVALID_REQUEST",
        `the socket path ${socket} is ${bytes} bytes; macOS allows ${MACOS_SOCKET_PATH_MAX} (104 with its NUL): set vz.socket_dir in server.yaml to a short directory such as /tmp/shed-vz`,
      );
    }
    if (/[\s,]/.test(socket)) {
      throw new ShedError("INVALID_REQUEST", `the socket path ${socket} has a space or comma, which vfkit cannot take: set vz.socket_dir in server.yaml to a plain short directory`);
    }
  }
  const paths = [l.upper, l.lower, l.kernel, l.initrd, l.console, ...shares.map((s) => s.path)];
  for (const p of paths) {
    if (p.includes(",")) {
      throw new ShedError("INVALID_REQUEST", `vfkit cannot be given a path with a comma (${p}): its device options split on commas; rename the directory`);
    }
  }
  for (const s of shares) {
    if (Buffer.byteLength(s.tag) > 36) throw new ShedError("INTERNAL", `VirtioFS tag ${s.tag} is longer than VZ's 36 bytes`);
  }
}
