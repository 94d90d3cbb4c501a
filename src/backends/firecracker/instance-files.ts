import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { MountSpec } from "../backend.ts";
import type { JailData } from "./jail.ts";
import type { NinePServer } from "./nine-p.ts";
import { type InstanceFile as VmInstanceFile, readInstanceFiles as readVmInstanceFiles, writeInstanceFile as writeVmInstanceFile } from "../vm-boot/instance-file.ts";

/** What the state file keeps for a Firecracker shed: where its files are and how it boots. */
export type FirecrackerData = {
  /** Instance dir: writable disk, console log, pid file, instance.json. */
  dir: string;
  pidFile: string;
  /** Firecracker's API socket (--api-sock): also the marker on its command line. */
  apiSocket: string;
  /** The hybrid vsock's host socket (PUT /vsock uds_path). */
  vsockSocket: string;
  console: string;
  upper: string;
  lower: string;
  kernel: string;
  initrd: string;
  image: string;
  imageDigest: string;
  cid: number;
  /** Its tap, MAC and address on the bridge (absent: network none). */
  tap?: string;
  mac?: string;
  ip?: string;
  /** Its 9P server on the bridge, when it has host directories (nine-p.ts). */
  ninep?: NinePServer;
  /** Its single-file mounts, kept in sync while it runs (vm-boot/file-sync.ts). */
  files?: MountSpec[];
  /** Its jail, when Firecracker runs under the jailer (jail.ts): the sockets are in it then. */
  jail?: JailData;
};

export type InstanceFile = VmInstanceFile<FirecrackerData>;

export function writeInstanceFile(name: string, serverId: string, data: FirecrackerData): void {
  writeVmInstanceFile(name, serverId, data);
}

/** Every readable instance file under `root`; unreadable ones go to `bad`. */
export function readInstanceFiles(root: string, bad?: (file: string, err: unknown) => void): InstanceFile[] {
  return readVmInstanceFiles<FirecrackerData>(root, bad);
}

/** A guest CID no other instance under `root` has, from `base` up. */
export function allocateCid(root: string, base: number, except?: string): number {
  const used = new Set(readInstanceFiles(root).filter((m) => m.name !== except).map((m) => m.data.cid));
  let cid = base;
  while (used.has(cid)) cid++;
  return cid;
}

/**
 * Sockets of an instance: in `socketDir` when set, else in its dir; a path too long for a
 * unix socket (107 bytes) moves to a short dir under /tmp named by a hash of the instance dir.
 */
export function socketPaths(dir: string, name: string, socketDir?: string): { api: string; vsock: string } {
  let base = socketDir ? join(socketDir, name) : dir;
  if (join(base, "firecracker.vsock").length > 100) {
    const hash = new Bun.CryptoHasher("sha256").update(dir).digest("hex").slice(0, 16);
    base = join("/tmp", `shed-fc-${hash}`);
  }
  mkdirSync(base, { recursive: true, mode: 0o700 });
  return { api: join(base, "firecracker.sock"), vsock: join(base, "firecracker.vsock") };
}
