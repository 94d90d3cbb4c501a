import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Who holds a TCP port: free, a pid (Linux: found through /proc), or someone unknown. */
export type PortState = { free: true } | { free: false; pid?: number; command?: string };

/** Tries to listen on `host:port` (released at once); when that fails, looks for the owner. */
export function portState(host: string, port: number): PortState {
  try {
    Bun.listen({ hostname: host, port, socket: { data() {} } }).stop(true);
    return { free: true };
  } catch {
    const pid = listenerPid(port);
    return pid ? { free: false, pid, command: commandOf(pid) } : { free: false };
  }
}

/** The pid of the process with a listening TCP socket on `port` (Linux; undefined elsewhere). */
export function listenerPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; field 9 is the socket inode.
      if (f.length > 9 && f[3] === "0A" && Number.parseInt(f[1]!.split(":").at(-1)!, 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of safeReaddir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    for (const fd of safeReaddir(`/proc/${entry}/fd`)) {
      try {
        const m = readlinkSync(`/proc/${entry}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
        if (m && inodes.has(m[1]!)) return Number(entry);
      } catch {}
    }
  }
  return undefined;
}

function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
