import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type InstanceFile as VmInstanceFile, readInstanceFiles as readVmInstanceFiles, writeInstanceFile as writeVmInstanceFile } from "../vm-boot/instance-file.ts";
import type { VmLayout } from "./command.ts";

/** What the state file keeps for a QEMU shed: where its files are and how it booted. */
export type QemuData = VmLayout & {
  image: string;
  imageDigest: string;
  accel: string;
  /** The shed's tap and MAC on the server's VM bridge (absent: no network). */
  tap?: string;
  mac?: string;
  /** Its machine-id (32 hex), given to systemd on the kernel command line; absent in sheds made before it was. */
  machineId?: string;
  /** Who its QEMU runs as (for `info` and messages). */
  vmm?: string;
};

export type InstanceFile = VmInstanceFile<QemuData>;

export function writeInstanceFile(name: string, serverId: string, data: QemuData): void {
  writeVmInstanceFile(name, serverId, data);
}

/** Every readable instance file under `root`; unreadable ones go to `bad`. */
export function readInstanceFiles(root: string, bad?: (file: string, err: unknown) => void): InstanceFile[] {
  return readVmInstanceFiles<QemuData>(root, bad);
}

/** A vsock CID no other instance under `root` uses (from 100; 0-2 are reserved). */
export function allocateCid(root: string): number {
  const used = new Set(readInstanceFiles(root).map((m) => m.data.vsockCid));
  let cid = 100;
  while (used.has(cid)) cid++;
  return cid;
}

/**
 * Unix socket paths are limited to 107 bytes; a deep state dir would exceed that, so such
 * sockets go to a short per-instance dir under /tmp instead (named by a hash of the dir).
 */
export function socketPath(dir: string, file: string): string {
  const direct = join(dir, file);
  if (direct.length <= 100) return direct;
  const hash = new Bun.CryptoHasher("sha256").update(dir).digest("hex").slice(0, 16);
  const short = join("/tmp", `shed-qemu-${hash}`);
  mkdirSync(short, { recursive: true, mode: 0o700 });
  return join(short, file);
}
