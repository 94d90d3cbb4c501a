import { runTool } from "./host-tools.ts";
import type { Subnet } from "./subnet.ts";

/**
 * Static guest addresses on a VM bridge (Firecracker's guests get theirs on the kernel
 * command line): the first address of the subnet's range that no other shed holds and that
 * nothing on the bridge answers for. The probe is ARP: a datagram to the address makes the
 * kernel resolve it on the bridge, and a neighbour entry with a link address means a host
 * there owns it (a conflict: skipped).
 */
export async function allocateAddress(subnet: Subnet, bridge: string, taken: Iterable<string>, answering = (ip: string) => arpAnswers(bridge, ip)): Promise<string> {
  const held = new Set(taken);
  for (let n = toInt(subnet.first); n <= toInt(subnet.last); n++) {
    const ip = toDotted(n);
    if (held.has(ip)) continue;
    if (await answering(ip)) continue;
    return ip;
  }
  throw new Error(`no free address left in ${subnet.cidr} on ${bridge}`);
}

/** Whether a host on `bridge` answers ARP for `ip` (within ~600 ms). */
export async function arpAnswers(bridge: string, ip: string, timeoutMs = 600): Promise<boolean> {
  const sock = await Bun.udpSocket({});
  try {
    sock.send("shed address probe", 9, ip);
  } catch {
    // No route (the bridge is down): nothing answers.
    sock.close();
    return false;
  }
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      await Bun.sleep(50);
      const out = await runTool("ip", ["-j", "neigh", "show", "to", ip, "dev", bridge]);
      const entries = JSON.parse(out || "[]") as { lladdr?: string; state?: string[] }[];
      if (entries.some((e) => e.lladdr && !e.state?.includes("FAILED") && !e.state?.includes("INCOMPLETE"))) return true;
      if (entries.some((e) => e.state?.includes("FAILED"))) return false;
    }
    return false;
  } finally {
    sock.close();
  }
}

function toInt(ip: string): number {
  return ip.split(".").reduce((a, o) => ((a << 8) | Number(o)) >>> 0, 0);
}

function toDotted(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}
