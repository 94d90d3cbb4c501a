import { describe, expect, it } from "vitest";
import { dnsmasqArgs, dnsmasqFiles } from "./dnsmasq.ts";
import { isolationUnavailable } from "./host-tools.ts";
import { bridgeAlias, macAddress, tableName, tapAlias, tapName } from "./names.ts";
import { vmNetworkRuleset } from "./nft-rules.ts";
import { parseSubnet } from "./subnet.ts";

describe("vm network: subnet", () => {
  it("gives the bridge the first address and DHCP the rest", () => {
    expect(parseSubnet("172.30.0.0/24")).toEqual({
      cidr: "172.30.0.0/24",
      prefix: 24,
      gateway: "172.30.0.1",
      netmask: "255.255.255.0",
      first: "172.30.0.2",
      last: "172.30.0.254",
    });
    expect(parseSubnet("10.9.8.77/20")).toMatchObject({ cidr: "10.9.0.0/20", gateway: "10.9.0.1", last: "10.9.15.254" });
  });

  it("refuses what is not an IPv4 subnet it can use, naming the setting", () => {
    for (const bad of ["172.30.0.0", "172.30.0.0/8", "172.30.0.0/31", "300.1.1.1/24", "fd00::/64", "a.b.c.d/24"]) {
      expect(() => parseSubnet(bad)).toThrow(/qemu\.subnet ".*" is not an IPv4 subnet/);
    }
  });
});

describe("vm network: names", () => {
  it("derives a tap name that fits IFNAMSIZ and a MAC from server and shed, stable and distinct", () => {
    const tap = tapName("srv-1", "web");
    expect(tap).toMatch(/^shtap[0-9a-f]{10}$/);
    expect(tap.length).toBeLessThanOrEqual(15);
    expect(tapName("srv-1", "web")).toBe(tap);
    expect(tapName("srv-2", "web")).not.toBe(tap);
    expect(macAddress("srv-1", "web")).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    expect(macAddress("srv-1", "api")).not.toBe(macAddress("srv-1", "web"));
  });

  it("labels links with the server and the shed, and names the table after its bridge", () => {
    expect(tapAlias("srv-1", "web")).toBe("shed server=srv-1 shed=web");
    expect(bridgeAlias("srv-1")).toBe("shed vm network server=srv-1");
    expect(tableName("shed-br0")).toBe("shed-vmnet-shed-br0");
  });
});

describe("vm network: nftables ruleset", () => {
  const rules = vmNetworkRuleset({ table: "shed-vmnet-br9", bridge: "br9", subnet: parseSubnet("172.30.0.0/24"), comment: "c" });

  it("replaces the whole table in one transaction", () => {
    expect(rules.startsWith("table inet shed-vmnet-br9\ndelete table inet shed-vmnet-br9\ntable inet shed-vmnet-br9 {")).toBe(true);
  });

  it("lets guests reach only DHCP and DNS of the bridge address among the host's addresses, before DNAT", () => {
    expect(rules).toContain("type filter hook prerouting priority -150; policy accept;");
    expect(rules).toContain('iifname "br9" jump from_guests');
    expect(rules).toContain("fib daddr type { local, broadcast, multicast, anycast } jump to_host");
    const toHost = rules.slice(rules.indexOf("chain to_host"), rules.indexOf("chain forward"));
    expect(toHost.trim().split("\n").slice(1, -1).map((l) => l.trim())).toEqual([
      "ip daddr 172.30.0.1 udp dport 53 accept",
      "ip daddr 172.30.0.1 tcp dport 53 accept",
      "ip daddr 172.30.0.1 ip saddr . tcp dport @host_ports accept",
      "drop",
    ]);
    expect(rules).toContain("udp sport 68 udp dport 67 ip daddr { 255.255.255.255, 172.30.0.1 } accept");
  });

  it("drops IPv6 and spoofed sources, masquerades the subnet out, forwards only replies in", () => {
    expect(rules).toContain("meta nfproto ipv6 drop");
    expect(rules).toContain("ip saddr != 172.30.0.0/24 drop");
    expect(rules).toContain('ip saddr 172.30.0.0/24 oifname != "br9" masquerade');
    expect(rules).toContain('oifname "br9" ct state established,related accept\n    oifname "br9" drop');
  });
});

describe("vm network: dnsmasq", () => {
  it("serves DHCP and DNS on the bridge only, with no system config and state in shed's dir", () => {
    const args = dnsmasqArgs("br9", parseSubnet("172.30.0.0/24"), dnsmasqFiles("/s/vm-network/br9"));
    expect(args).toEqual(
      expect.arrayContaining([
        "--conf-file=/dev/null",
        "--pid-file=/s/vm-network/br9/dnsmasq.pid",
        "--dhcp-leasefile=/s/vm-network/br9/dnsmasq.leases",
        "--interface=br9",
        "--bind-interfaces",
        "--except-interface=lo",
        "--dhcp-range=172.30.0.2,172.30.0.254,255.255.255.0,1h",
        "--no-hosts",
      ]),
    );
  });
});

describe("vm network: when the host cannot isolate VMs", () => {
  const ok = { uid: 0, tools: { ip: true, nft: true, dnsmasq: true }, tun: true };

  it("says nothing when it can", () => {
    expect(isolationUnavailable(ok)).toBeUndefined();
  });

  it("says what is missing, what to install, and that network: none is the other way", () => {
    const why = isolationUnavailable({ uid: 1000, tools: { ip: true, nft: false, dnsmasq: false }, tun: false })!;
    expect(why).toContain("root (shed-server runs as uid 1000");
    expect(why).toContain("nft, dnsmasq (apt-get install nftables dnsmasq-base)");
    expect(why).toContain("/dev/net/tun");
    expect(why).toContain("set qemu.network: none in server.yaml");
    expect(why).not.toMatch(/user-mode|slirp/);
  });
});
