import type { Subnet } from "./subnet.ts";

export interface RulesetInput {
  table: string;
  bridge: string;
  subnet: Subnet;
  comment: string;
}

/**
 * shed's own nftables table for one VM bridge, as one `nft -f` transaction that replaces
 * any earlier version of it (declare, delete, define: atomic, so there is never a moment
 * without the rules). What a guest may do:
 *
 * - reach shed's dnsmasq on the bridge address: DHCP and DNS, and the ports given to it
 *   alone (set host_ports: its own 9P server, one guest address and port each), nothing
 *   else of the host.
 *   Every packet from the bridge to any address of the host (the bridge's, 127.0.0.1,
 *   the host's other interfaces, broadcast and multicast) is dropped in prerouting, before
 *   destination NAT: a port the host forwards elsewhere by DNAT (Docker's published ports)
 *   is addressed to the host and so is dropped too;
 * - send from its own subnet only (no spoofed sources), IPv4 only;
 * - go out to other networks, masqueraded behind the host's address;
 * - not be reached from outside: only replies are forwarded to the bridge.
 *
 * VM-to-VM traffic never reaches these hooks: it is switched by the bridge, and each tap
 * is an isolated bridge port (see host-network.ts).
 */
export function vmNetworkRuleset({ table, bridge, subnet, comment }: RulesetInput): string {
  const br = JSON.stringify(bridge);
  return `table inet ${table}
delete table inet ${table}
table inet ${table} {
  comment ${JSON.stringify(comment)}

  set host_ports {
    type ipv4_addr . inet_service
  }

  chain prerouting {
    # After conntrack (-200), before destination NAT (-100).
    type filter hook prerouting priority -150; policy accept;
    iifname ${br} jump from_guests
  }

  chain from_guests {
    meta nfproto ipv6 drop
    udp sport 68 udp dport 67 ip daddr { 255.255.255.255, ${subnet.gateway} } accept
    ip saddr != ${subnet.cidr} drop
    fib daddr type { local, broadcast, multicast, anycast } jump to_host
  }

  chain to_host {
    ip daddr ${subnet.gateway} udp dport 53 accept
    ip daddr ${subnet.gateway} tcp dport 53 accept
    ip daddr ${subnet.gateway} ip saddr . tcp dport @host_ports accept
    drop
  }

  chain forward {
    type filter hook forward priority filter; policy accept;
    oifname ${br} ct state established,related accept
    oifname ${br} drop
  }

  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${subnet.cidr} oifname != ${br} masquerade
  }
}
`;
}
