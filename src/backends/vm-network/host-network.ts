import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import type { Logger } from "../../log/logger.ts";
import type { SetupStep } from "../definition.ts";
import { allocateAddress } from "./addresses.ts";
import { allowThroughHostForward } from "./docker-forward.ts";
import { dnsmasqFiles, ensureDnsmasq, runningDnsmasq } from "./dnsmasq.ts";
import { findTool, hostFacts, isolationUnavailable, runTool } from "./host-tools.ts";
import { bridgeAlias, macAddress, tableName, tapAlias, tapName } from "./names.ts";
import { vmNetworkRuleset } from "./nft-rules.ts";
import { parseSubnet, type Subnet } from "./subnet.ts";

export interface VmNetworkOptions {
  /** The bridge's name (at most 15 bytes), e.g. shed-br0. */
  bridge: string;
  /** IPv4 subnet of the guests, e.g. 172.30.0.0/24: the bridge takes the first address. */
  subnet: string;
  stateDir: string;
  serverId: string;
  logger: Logger;
}

/** What a VM gets: its own tap on the bridge and the MAC its DHCP lease follows. */
export interface VmNic {
  tap: string;
  mac: string;
}

/** Who may open a VM's tap by name (Firecracker's jailer); without one only root can (QEMU gets an fd: openTap). */
export interface TapOwner {
  uid: number;
  gid: number;
}

/**
 * The isolated network of a server's VMs, for every VM backend (QEMU today, Firecracker
 * next): a bridge with the subnet's first address, a persistent tap per VM (root's, or its
 * VMM user's) made an isolated bridge port (VMs do not see each other), shed's own
 * nftables table (nft-rules.ts: guests reach the outside through NAT and nothing of the
 * host but DHCP and DNS), and dnsmasq on the bridge for DHCP and DNS.
 *
 * The bridge, the table and dnsmasq are per server and outlive it (dnsmasq daemonizes, like
 * QEMU): `ensure()` adopts what is there and makes what is missing, so a restarted server
 * finds its VMs' network as it left it. A tap lives from a VM's boot until its deletion.
 */
export class VmNetwork {
  private readonly subnet: Subnet;
  private readonly table: string;
  private readonly hostPorts = new Set<string>();
  private readonly dir: string;
  private ensuring: Promise<void> | undefined;

  constructor(private readonly opts: VmNetworkOptions) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/.test(opts.bridge)) {
      throw new ShedError("INVALID_CONFIG", `bridge name "${opts.bridge}" is not a network interface name (1-15 of a-z A-Z 0-9 _ . -)`);
    }
    this.subnet = parseSubnet(opts.subnet);
    this.table = tableName(opts.bridge);
    this.dir = join(opts.stateDir, "vm-network", opts.bridge);
  }

  /** Throws the clear "what to install, or network: none" error when the host cannot. */
  preflight(): void {
    const why = isolationUnavailable(hostFacts());
    if (why) throw new ShedError("BACKEND_UNAVAILABLE", why);
  }

  /** Bridge, forwarding, rules and dnsmasq in place (idempotent; one at a time). */
  ensure(): Promise<void> {
    const run = (this.ensuring ?? Promise.resolve()).catch(() => {}).then(() => this.ensureOnce());
    this.ensuring = run;
    return run;
  }

  private async ensureOnce(): Promise<void> {
    this.preflight();
    const { bridge, serverId } = this.opts;
    await this.ensureBridge();
    // Routing for the guests' NAT; no IPv6 on the bridge, so no link-local way to the host.
    writeFileSync("/proc/sys/net/ipv4/ip_forward", "1\n");
    const v6 = `/proc/sys/net/ipv6/conf/${bridge}/disable_ipv6`;
    if (existsSync(v6)) writeFileSync(v6, "1\n");
    const comment = `shed: VMs of server ${serverId} on ${bridge} (${this.subnet.cidr}); see shed's README`;
    await runTool("nft", ["-f", "-"], vmNetworkRuleset({ table: this.table, bridge, subnet: this.subnet, comment }));
    // The table was replaced: the host ports given out so far again.
    for (const key of this.hostPorts) await runTool("nft", ["add", "element", "inet", this.table, "host_ports", `{ ${key} }`]);
    // On a Docker host, Docker's FORWARD policy would drop the guests' way out.
    const forwardChain = await allowThroughHostForward(bridge, `shed: VMs of server ${serverId} on ${bridge}`);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const pid = await ensureDnsmasq(bridge, this.subnet, dnsmasqFiles(this.dir));
    this.opts.logger.debug("vm network ready", { bridge, subnet: this.subnet.cidr, table: this.table, dnsmasq: pid, forwardChain });
  }

  private async ensureBridge(): Promise<void> {
    const { bridge, serverId } = this.opts;
    const found = await linkInfo(bridge);
    if (found && found.kind !== "bridge") {
      throw new ShedError("BACKEND_UNAVAILABLE", `VM network: ${bridge} exists and is not a bridge (${found.kind ?? "no kind"}); set qemu.bridge to another name`);
    }
    // A bridge made by hand (seed setups) is adopted; one labelled for another server is not.
    if (found?.alias?.startsWith("shed ") && found.alias !== bridgeAlias(serverId)) {
      throw new ShedError("BACKEND_UNAVAILABLE", `VM network: bridge ${bridge} belongs to another shed server (${found.alias}); set qemu.bridge to another name`);
    }
    const batch = [
      ...(found ? [] : [`link add ${bridge} type bridge`]),
      `link set dev ${bridge} alias "${bridgeAlias(serverId)}"`,
      `address replace ${this.subnet.gateway}/${this.subnet.prefix} dev ${bridge}`,
      `link set dev ${bridge} up`,
    ];
    await runTool("ip", ["-batch", "-"], `${batch.join("\n")}\n`);
  }

  /**
   * `shed-server setup`'s part: the bridge with its address, forwarding, and the NAT and
   * filter rules, each reported as present, made, or (dry run) would be made. What `ensure`
   * does at a VM's boot, without dnsmasq (started with the first VM).
   */
  async setup(dryRun: boolean): Promise<SetupStep[]> {
    this.preflight();
    const { bridge } = this.opts;
    const steps: SetupStep[] = [];
    const addr = `${this.subnet.gateway}/${this.subnet.prefix}`;
    const found = await linkInfo(bridge);
    const hasAddr = found ? (await runTool("ip", ["-o", "-4", "addr", "show", "dev", bridge])).includes(` ${addr} `) : false;
    const up = found ? (await runTool("ip", ["-o", "link", "show", "dev", bridge])).includes("UP") : false;
    // A dry run (doctor's too) may not know the server's id: any shed label will do there.
    const labelled = dryRun ? !!found?.alias?.startsWith("shed ") : found?.alias === bridgeAlias(this.opts.serverId);
    const bridgeOk = found?.kind === "bridge" && hasAddr && up && labelled;
    if (!bridgeOk && !dryRun) await this.ensureBridge();
    steps.push({ step: "bridge", status: bridgeOk ? "present" : dryRun ? "would make" : "made", detail: `${bridge} at ${addr}, up` });
    const forwarding = readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim() === "1";
    if (!forwarding && !dryRun) writeFileSync("/proc/sys/net/ipv4/ip_forward", "1\n");
    steps.push({ step: "forwarding", status: forwarding ? "present" : dryRun ? "would make" : "made", detail: "net.ipv4.ip_forward = 1" });
    const table = await runTool("nft", ["list", "table", "inet", this.table]).then(
      () => true,
      () => false,
    );
    if (!table && !dryRun) {
      const comment = `shed: VMs of server ${this.opts.serverId} on ${bridge} (${this.subnet.cidr}); see shed's README`;
      await runTool("nft", ["-f", "-"], vmNetworkRuleset({ table: this.table, bridge, subnet: this.subnet, comment }));
      await allowThroughHostForward(bridge, `shed: VMs of server ${this.opts.serverId} on ${bridge}`);
    }
    steps.push({ step: "nat", status: table ? "present" : dryRun ? "would make" : "made", detail: `nftables table inet ${this.table}: masquerade ${this.subnet.cidr}, forwarding for ${bridge}` });
    return steps;
  }

  /** The guests' gateway (the bridge) and netmask, for a static address on the kernel command line. */
  /**
   * Lets the guest at `ip` (and it alone) reach `port` on the bridge address: a server of its
   * own there (9P). Kept across a rebuild of the rules; `revokeHostPort` takes it back.
   */
  async allowHostPort(ip: string, port: number): Promise<void> {
    const key = `${ip} . ${port}`;
    this.hostPorts.add(key);
    await runTool("nft", ["add", "element", "inet", this.table, "host_ports", `{ ${key} }`]);
  }

  async revokeHostPort(ip: string, port: number): Promise<void> {
    const key = `${ip} . ${port}`;
    this.hostPorts.delete(key);
    await runTool("nft", ["delete", "element", "inet", this.table, "host_ports", `{ ${key} }`]).catch(() => {});
  }

  gateway(): { gateway: string; netmask: string } {
    return { gateway: this.subnet.gateway, netmask: this.subnet.netmask };
  }

  /**
   * A fixed address for `shed` (the network is up: attach first): none another shed holds
   * (`taken`, and the reservations of this bridge), none a host on the bridge answers for.
   */
  async allocateAddress(shed: string, taken: Iterable<string>): Promise<string> {
    const files = dnsmasqFiles(this.dir);
    const reserved = existsSync(files.hostsDir)
      ? readdirSync(files.hostsDir)
          .filter((f) => f !== this.hostsFile(shed).split("/").pop())
          .map((f) => readFileSync(join(files.hostsDir, f), "utf8").trim().split(",")[1] ?? "")
      : [];
    try {
      return await allocateAddress(this.subnet, this.opts.bridge, [...taken, ...reserved]);
    } catch (err) {
      throw new ShedError("BACKEND_UNAVAILABLE", `VM network: ${(err as Error).message}`);
    }
  }

  /** Makes dnsmasq hand `ip` to `mac` (a guest that asks DHCP gets its fixed address). */
  async reserve(shed: string, mac: string, ip: string): Promise<void> {
    const file = this.hostsFile(shed);
    mkdirSync(join(file, ".."), { recursive: true, mode: 0o755 });
    writeFileSync(file, `${mac},${ip}\n`, { mode: 0o644 });
    // dnsmasq watches the directory, but a file made just after its start was missed here: SIGHUP rereads it.
    const pid = runningDnsmasq(dnsmasqFiles(this.dir));
    if (pid) process.kill(pid, "SIGHUP");
  }

  release(shed: string): void {
    rmSync(this.hostsFile(shed), { force: true });
  }

  private hostsFile(shed: string): string {
    return join(dnsmasqFiles(this.dir).hostsDir, tapName(this.opts.serverId, shed));
  }

  /** The shed's tap, made afresh for a boot, on the bridge. */
  async attach(shed: string, owner?: TapOwner): Promise<VmNic> {
    await this.ensure();
    const { bridge, serverId } = this.opts;
    const tap = tapName(serverId, shed);
    await removeLink(tap);
    const batch = [
      `tuntap add dev ${tap} mode tap${owner ? ` user ${owner.uid} group ${owner.gid}` : ""}`,
      `link set dev ${tap} alias "${tapAlias(serverId, shed)}"`,
      `link set dev ${tap} master ${bridge}`,
      `link set dev ${tap} type bridge_slave isolated on`,
      `link set dev ${tap} up`,
    ];
    try {
      await runTool("ip", ["-batch", "-"], `${batch.join("\n")}\n`);
    } catch (err) {
      await removeLink(tap).catch(() => {});
      throw err;
    }
    return { tap, mac: macAddress(serverId, shed) };
  }
}

/** Removes a link this network made (a VM's tap: tapName) when it is there; needs no VmNetwork. */
export async function removeLink(name: string): Promise<void> {
  if (findTool("ip") && (await linkInfo(name))) await runTool("ip", ["link", "del", "dev", name]);
}

/** A link of this network namespace, or undefined (asked of `ip`: /sys may show another namespace). */
async function linkInfo(name: string): Promise<{ kind?: string; alias?: string } | undefined> {
  const out = await runTool("ip", ["-j", "-d", "link", "show"]);
  const link = (JSON.parse(out) as { ifname: string; ifalias?: string; linkinfo?: { info_kind?: string } }[]).find((l) => l.ifname === name);
  return link && { kind: link.linkinfo?.info_kind, alias: link.ifalias };
}
