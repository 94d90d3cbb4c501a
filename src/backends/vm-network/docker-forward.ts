import { findTool, runTool } from "./host-tools.ts";

/**
 * Docker sets the host's iptables FORWARD policy to DROP, and a forwarded packet must be
 * accepted by every base chain of its hook: shed's own nftables table cannot accept for
 * Docker's. Docker's documented place for a host's own forwarding rules is its DOCKER-USER
 * chain. Where there is one (or where FORWARD drops by policy without it), the bridge's
 * traffic is accepted there: out of the bridge, and replies back into it. Nothing else is
 * opened: shed's table still drops what a guest sends to the host and what the outside
 * sends to a guest. The rules carry `comment` and are added once (checked with -C).
 */
export async function allowThroughHostForward(bridge: string, comment: string): Promise<string | undefined> {
  if (!findTool("iptables")) return undefined;
  const chain = (await chainExists("DOCKER-USER")) ? "DOCKER-USER" : (await forwardDrops()) ? "FORWARD" : undefined;
  if (!chain) return undefined;
  const tag = ["-m", "comment", "--comment", comment];
  const rules = [
    ["-i", bridge, "!", "-o", bridge, ...tag, "-j", "ACCEPT"],
    ["-o", bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", ...tag, "-j", "ACCEPT"],
  ];
  for (const rule of rules) {
    const present = await runTool("iptables", ["-w", "-C", chain, ...rule]).then(
      () => true,
      () => false,
    );
    if (!present) await runTool("iptables", ["-w", "-I", chain, "1", ...rule]);
  }
  return chain;
}

async function chainExists(chain: string): Promise<boolean> {
  return runTool("iptables", ["-w", "-S", chain]).then(
    () => true,
    () => false,
  );
}

async function forwardDrops(): Promise<boolean> {
  const rules = await runTool("iptables", ["-w", "-S", "FORWARD"]).catch(() => "");
  return /^-P FORWARD DROP$/m.test(rules);
}
