import { type InstanceFile as VmInstanceFile, readInstanceFiles as readVmInstanceFiles, writeInstanceFile as writeVmInstanceFile } from "../vm-boot/instance-file.ts";
import type { UpperMethod } from "../vm-boot/upper-template.ts";
import type { VzLayout } from "./command.ts";

/** What the state file keeps for a vz shed: where its files are and what it boots. */
export type VzData = VzLayout & {
  image: string;
  imageDigest: string;
  /** Its NIC on vfkit's NAT (absent: vz.network none). */
  mac?: string;
  /** How its upper disk was made (clone of the template, sparse copy, or mkfs). */
  upperMethod?: UpperMethod;
};

export type VzInstanceFile = VmInstanceFile<VzData>;

export function writeVzInstance(name: string, serverId: string, data: VzData): void {
  writeVmInstanceFile(name, serverId, data);
}

/** Every readable instance file under `root`; unreadable ones go to `bad`. */
export function readVzInstances(root: string, bad?: (file: string, err: unknown) => void): VzInstanceFile[] {
  return readVmInstanceFiles<VzData>(root, bad);
}
