import { ShedError } from "../../api/errors.ts";

/** An IPv4 subnet for the VMs of one bridge: the bridge takes the first address, DHCP the rest. */
export interface Subnet {
  /** As configured, normalized: "172.30.0.0/24". */
  cidr: string;
  prefix: number;
  /** The bridge's own address: the guests' gateway and DNS server. */
  gateway: string;
  netmask: string;
  /** The DHCP range (gateway + 1 .. broadcast - 1). */
  first: string;
  last: string;
}

export function parseSubnet(text: string, where = "qemu.subnet"): Subnet {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim());
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefix = m ? Number(m[5]) : 0;
  if (!m || octets.some((o) => o > 255) || prefix < 16 || prefix > 29) {
    throw new ShedError("INVALID_CONFIG", `${where} "${text}" is not an IPv4 subnet from /16 to /29 (e.g. 172.30.0.0/24)`);
  }
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  const base = (toInt(octets) & mask) >>> 0;
  const broadcast = (base | ~mask) >>> 0;
  return {
    cidr: `${toDotted(base)}/${prefix}`,
    prefix,
    gateway: toDotted(base + 1),
    netmask: toDotted(mask),
    first: toDotted(base + 2),
    last: toDotted(broadcast - 1),
  };
}

function toInt(o: number[]): number {
  return ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
}

function toDotted(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}
