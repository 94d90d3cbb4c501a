import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import { findTool } from "./host-tools.ts";
import type { Subnet } from "./subnet.ts";

export interface DnsmasqFiles {
  /** Per bridge: <stateDir>/vm-network/<bridge>/ (root only). */
  dir: string;
  pidFile: string;
  leases: string;
  log: string;
  /** One file per VM with a fixed address ("MAC,IP"), readable by dnsmasq's own user: it reads the directory as it changes. */
  hostsDir: string;
}

export function dnsmasqFiles(dir: string): DnsmasqFiles {
  // dnsmasq reads the reservations after dropping to its unprivileged user, which cannot
  // traverse the state dir: they live under /run instead, one dir per network (named by a hash).
  const hash = new Bun.CryptoHasher("sha256").update(dir).digest("hex").slice(0, 16);
  return { dir, pidFile: join(dir, "dnsmasq.pid"), leases: join(dir, "dnsmasq.leases"), log: join(dir, "dnsmasq.log"), hostsDir: join("/run/shed-vmnet", hash) };
}

/**
 * DHCP and DNS for the guests, on the bridge only: no system config file, no /etc/hosts
 * (the host's names are not the guests' business), leases in shed's state dir. It
 * daemonizes itself, so it outlives a restart of shed-server like the VMs do.
 */
export function dnsmasqArgs(bridge: string, subnet: Subnet, files: DnsmasqFiles): string[] {
  return [
    "--conf-file=/dev/null",
    `--pid-file=${files.pidFile}`,
    `--dhcp-leasefile=${files.leases}`,
    `--log-facility=${files.log}`,
    `--interface=${bridge}`,
    "--bind-interfaces",
    "--except-interface=lo",
    `--dhcp-range=${subnet.first},${subnet.last},${subnet.netmask},1h`,
    "--dhcp-authoritative",
    `--dhcp-hostsdir=${files.hostsDir}`,
    `--dhcp-option=option:router,${subnet.gateway}`,
    `--dhcp-option=option:dns-server,${subnet.gateway}`,
    "--no-hosts",
    "--domain-needed",
    "--bogus-priv",
  ];
}

/** The pid of this bridge's dnsmasq when it runs (its pid file and its command line agree). */
export function runningDnsmasq(files: DnsmasqFiles): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(files.pidFile, "utf8").trim(), 10);
    if (!(pid > 0)) return undefined;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes(`--pid-file=${files.pidFile}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts dnsmasq unless it already runs; returns its pid. */
export async function ensureDnsmasq(bridge: string, subnet: Subnet, files: DnsmasqFiles): Promise<number> {
  const running = runningDnsmasq(files);
  if (running) return running;
  mkdirSync(files.hostsDir, { recursive: true, mode: 0o755 });
  const binary = findTool("dnsmasq");
  if (!binary) throw new ShedError("BACKEND_UNAVAILABLE", "dnsmasq is not installed: apt-get install dnsmasq-base");
  // Its start-up errors go to a file: a pipe would stay open in the daemon it leaves behind.
  const errors = join(files.dir, "dnsmasq.start.log");
  const fd = openSync(errors, "w", 0o600);
  try {
    const proc = Bun.spawn([binary, ...dnsmasqArgs(bridge, subnet, files)], { stdin: "ignore", stdout: fd, stderr: fd });
    const code = await proc.exited;
    if (code !== 0) {
      const why = existsSync(errors) ? readFileSync(errors, "utf8").trim() : "";
      throw new ShedError("BACKEND_UNAVAILABLE", `VM network: dnsmasq for ${bridge} did not start (exit ${code}): ${why.slice(-500)}`);
    }
  } finally {
    closeSync(fd);
  }
  for (let i = 0; i < 50; i++) {
    const pid = runningDnsmasq(files);
    if (pid) return pid;
    await Bun.sleep(20);
  }
  throw new ShedError("BACKEND_UNAVAILABLE", `VM network: dnsmasq for ${bridge} started but wrote no pid to ${files.pidFile}`);
}
