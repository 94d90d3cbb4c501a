import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../fs/atomic-file.ts";

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
};

export interface InstanceFile {
  name: string;
  serverId: string;
  data: FirecrackerData;
}

/** The metadata file of an instance dir: lets `list` find VMs after a server restart. */
export function writeInstanceFile(name: string, serverId: string, data: FirecrackerData): void {
  const meta: InstanceFile = { name, serverId, data };
  writeFileAtomic(join(data.dir, "instance.json"), `${JSON.stringify(meta, null, 2)}\n`, 0o600);
}

export function readInstanceFiles(root: string, bad: (file: string, err: unknown) => void = () => {}): InstanceFile[] {
  if (!existsSync(root)) return [];
  const out: InstanceFile[] = [];
  for (const name of readdirSync(root)) {
    const file = join(root, name, "instance.json");
    if (!existsSync(file)) continue;
    try {
      out.push(JSON.parse(readFileSync(file, "utf8")) as InstanceFile);
    } catch (err) {
      bad(file, err);
    }
  }
  return out;
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
