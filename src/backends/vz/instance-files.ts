import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../fs/atomic-file.ts";
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

/** instance.json in each instance dir: lets `list` find VMs after a server restart. */
export interface VzInstanceFile {
  name: string;
  serverId: string;
  data: VzData;
}

export function writeVzInstance(name: string, serverId: string, data: VzData): void {
  const meta: VzInstanceFile = { name, serverId, data };
  writeFileAtomic(join(data.dir, "instance.json"), `${JSON.stringify(meta, null, 2)}\n`, 0o600);
}

export function readVzInstances(root: string, bad: (file: string, err: unknown) => void): VzInstanceFile[] {
  if (!existsSync(root)) return [];
  const out: VzInstanceFile[] = [];
  for (const name of readdirSync(root)) {
    const file = join(root, name, "instance.json");
    if (!existsSync(file)) continue;
    try {
      out.push(JSON.parse(readFileSync(file, "utf8")) as VzInstanceFile);
    } catch (err) {
      bad(file, err);
    }
  }
  return out;
}
