/**
 * Names and labels of what the VM network makes on the host, derived from the server and
 * the shed so they can be found again without any state: after a server restart, or by
 * `delete --force` of a shed whose record is gone. Link aliases carry the labels
 * (`ip -d link` shows them); the nftables table names its bridge and says whose it is.
 */

/** A tap per shed: at most 15 bytes (IFNAMSIZ - 1), stable for (server, shed). */
export function tapName(serverId: string, shed: string): string {
  return `shtap${hash(serverId, shed).slice(0, 10)}`;
}

/** A stable MAC per shed in QEMU's locally used prefix (the guest's DHCP lease follows it). */
export function macAddress(serverId: string, shed: string): string {
  const h = hash(serverId, shed);
  return ["52", "54", "00", h.slice(10, 12), h.slice(12, 14), h.slice(14, 16)].join(":");
}

export function tapAlias(serverId: string, shed: string): string {
  return `shed server=${serverId} shed=${shed}`;
}

export function bridgeAlias(serverId: string): string {
  return `shed vm network server=${serverId}`;
}

/** One table per bridge, so its rules are replaced (or deleted) as one. */
export function tableName(bridge: string): string {
  return `shed-vmnet-${bridge}`;
}

function hash(serverId: string, shed: string): string {
  return new Bun.CryptoHasher("sha256").update(`${serverId}/${shed}`).digest("hex");
}
