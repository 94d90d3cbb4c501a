import { existsSync, readdirSync } from "node:fs";
import { runId } from "./run-id.ts";

/**
 * Network namespaces a test makes, so that bridges, taps, NAT and nftables rules never touch
 * this machine's own network: a "host" namespace in which shed-server (and the CLI) run as
 * on a server's host, joined by a veth pair to an "outside" namespace that stands for the
 * networks beyond it (a default route points there). Removing a namespace ends the processes
 * still in it (all started by the test: the server, its VMs, dnsmasq) and with them every
 * link and ruleset made inside.
 */
export interface TestNetns {
  name: string;
  /** `argv` run inside the namespace (`ip netns exec NAME ...`). */
  wrap(argv: string[]): string[];
  /** Runs a command inside; throws with its stderr when it fails. */
  run(argv: string[]): string;
}

export interface TestNetwork {
  host: TestNetns;
  outside: TestNetns;
  /** The host namespace's address on the veth, and the outside's (a documentation range). */
  hostAddr: string;
  outsideAddr: string;
  remove(): Promise<void>;
}

const HOST_ADDR = "192.0.2.1";
const OUTSIDE_ADDR = "192.0.2.2";
let count = 0;
const live = new Set<TestNetwork>();

/** Why netns tests cannot run here (not root, no `ip`), or undefined. */
export function netnsMissing(): string | undefined {
  if (process.getuid?.() !== 0) return "root (network namespaces)";
  if (!Bun.which("ip")) return "`ip` (apt-get install iproute2)";
  return undefined;
}

export function makeTestNetwork(): TestNetwork {
  const id = `${runId}-${++count}`;
  const host = netns(`shedt-${id}-host`);
  const outside = netns(`shedt-${id}-out`);
  const net: TestNetwork = {
    host,
    outside,
    hostAddr: HOST_ADDR,
    outsideAddr: OUTSIDE_ADDR,
    async remove() {
      live.delete(net);
      for (const ns of [host, outside]) await removeNetns(ns.name);
    },
  };
  live.add(net);
  try {
    for (const ns of [host, outside]) {
      ip(["netns", "add", ns.name]);
      ip(["-n", ns.name, "link", "set", "lo", "up"]);
    }
    // Made inside the host namespace with its peer created straight into the outside one:
    // no link ever appears in this machine's own namespace.
    ip(["-n", host.name, "link", "add", "veth-out", "type", "veth", "peer", "name", "veth-host", "netns", outside.name]);
    ip(["-n", host.name, "addr", "add", `${HOST_ADDR}/24`, "dev", "veth-out"]);
    ip(["-n", host.name, "link", "set", "veth-out", "up"]);
    ip(["-n", host.name, "route", "add", "default", "via", OUTSIDE_ADDR]);
    ip(["-n", outside.name, "addr", "add", `${OUTSIDE_ADDR}/24`, "dev", "veth-host"]);
    ip(["-n", outside.name, "link", "set", "veth-host", "up"]);
  } catch (err) {
    for (const ns of [host, outside]) removeNetnsSync(ns.name);
    live.delete(net);
    throw err;
  }
  return net;
}

// A test process that ends without its afterAll (a crash, a thrown hook) still removes them.
process.on("exit", () => {
  for (const net of live) for (const ns of [net.host, net.outside]) removeNetnsSync(ns.name);
});

function netns(name: string): TestNetns {
  return {
    name,
    wrap: (argv) => ["ip", "netns", "exec", name, ...argv],
    run: (argv) => run(["ip", "netns", "exec", name, ...argv]),
  };
}

function ip(args: string[]): string {
  return run(["ip", ...args]);
}

function run(argv: string[]): string {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${p.exitCode}): ${p.stderr.toString().trim()}`);
  return p.stdout.toString();
}

/** Pids of the processes in namespace `name` (all of them started by the test). */
function pidsIn(name: string): number[] {
  if (!existsSync(`/run/netns/${name}`)) return [];
  const p = Bun.spawnSync(["ip", "netns", "pids", name], { stdout: "pipe", stderr: "ignore" });
  return p.stdout
    .toString()
    .split("\n")
    .map((l) => Number.parseInt(l, 10))
    .filter((n) => n > 0);
}

async function removeNetns(name: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const pids = pidsIn(name);
    if (!pids.length) break;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    await Bun.sleep(100);
  }
  if (existsSync(`/run/netns/${name}`)) Bun.spawnSync(["ip", "netns", "del", name], { stderr: "ignore" });
}

function removeNetnsSync(name: string): void {
  for (const pid of pidsIn(name)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  if (existsSync(`/run/netns/${name}`)) Bun.spawnSync(["ip", "netns", "del", name], { stderr: "ignore" });
}

/** Namespaces of this test run still present (for a check that teardown removed them). */
export function leftoverNetns(): string[] {
  if (!existsSync("/run/netns")) return [];
  return readdirSync("/run/netns").filter((n) => n.startsWith(`shedt-${runId}-`));
}
