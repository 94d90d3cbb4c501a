import { existsSync } from "node:fs";
import { ShedError } from "../../api/errors.ts";

/**
 * The host programs the VM network drives (iproute2, nftables, dnsmasq), found on PATH or in
 * the sbin directories a non-login root's PATH may lack, and run with their errors kept.
 */
const SBIN = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

export function findTool(name: string): string | undefined {
  return Bun.which(name) ?? SBIN.map((d) => `${d}/${name}`).find((p) => existsSync(p));
}

/** What the host lacks for isolated VM networking, in words a person can act on. */
export interface HostFacts {
  uid: number;
  tools: Record<"ip" | "nft" | "dnsmasq", boolean>;
  tun: boolean;
}

export function hostFacts(): HostFacts {
  return {
    uid: process.getuid?.() ?? -1,
    tools: { ip: !!findTool("ip"), nft: !!findTool("nft"), dnsmasq: !!findTool("dnsmasq") },
    tun: existsSync("/dev/net/tun"),
  };
}

const PACKAGES = { ip: "iproute2", nft: "nftables", dnsmasq: "dnsmasq-base" } as const;

/** Why this host cannot give VMs the isolated network, or undefined when it can. */
export function isolationUnavailable(facts: HostFacts): string | undefined {
  const lacking: string[] = [];
  if (facts.uid !== 0) lacking.push(`root (shed-server runs as uid ${facts.uid}; the bridge, taps and nftables rules need root)`);
  const tools = (Object.keys(PACKAGES) as (keyof typeof PACKAGES)[]).filter((t) => !facts.tools[t]);
  if (tools.length) lacking.push(`${tools.join(", ")} (apt-get install ${tools.map((t) => PACKAGES[t]).join(" ")})`);
  if (!facts.tun) lacking.push("/dev/net/tun (load the tun module: modprobe tun)");
  if (!lacking.length) return undefined;
  return `isolated VM networking needs ${lacking.join("; ")}. Provide that, or set qemu.network: none in server.yaml to run VMs without a network`;
}

/** Runs a host tool; a failure is BACKEND_UNAVAILABLE with the tool's own words. */
export async function runTool(tool: string, args: string[], stdin?: string): Promise<string> {
  const path = findTool(tool);
  if (!path) throw new ShedError("BACKEND_UNAVAILABLE", `${tool} is not installed`);
  const proc = Bun.spawn([path, ...args], {
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0) {
    throw new ShedError("BACKEND_UNAVAILABLE", `VM network: \`${tool} ${args.join(" ")}\` failed (exit ${code}): ${err.trim().slice(-500)}`);
  }
  return out;
}
