import { closeSync, existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { type AddressInfo, connect, createServer } from "node:net";
import { join } from "node:path";
import type { AgentConnection } from "../../agent/protocol/api.ts";
import { runInShed } from "../../agent/protocol/run-in-shed.ts";
import { ShedError } from "../../api/errors.ts";
import { writeFileAtomic } from "../../fs/atomic-file.ts";
import { killByPidFile, runningPid, waitGone } from "../../proc/pid-file.ts";
import type { MountSpec } from "../backend.ts";

/**
 * Host directories of a Firecracker shed (--local-dir, --add-dir, config mounts) over 9P on
 * the bridge, as seed 002 says: one `diod` per shed, bound to the bridge's address on a port
 * of its own, exporting exactly the shed's sources; the guest mounts them with trans=tcp.
 * Uids map 1:1 (`--no-userdb`: any uid attaches as itself, gid = uid; `access=user` in the
 * guest makes every guest user attach as its own uid). diod runs detached with its pid file
 * in the instance dir, so a restarted server finds it again and the guest's mounts keep
 * working (the original lost them); one found dead is started again on the same port.
 */
export interface NinePShare {
  source: string;
  target: string;
  readonly: boolean;
}

/** Where the shed's 9P server listens (kept in the instance data: a restart needs the same port). */
export interface NinePServer {
  address: string;
  port: number;
  shares: NinePShare[];
}

export function ninePShares(mounts: MountSpec[] | undefined): NinePShare[] {
  return (mounts ?? []).map((m) => ({ source: m.source, target: m.target, readonly: m.readonly }));
}

function files(dir: string): { pidFile: string; log: string; hosts: string } {
  return { pidFile: join(dir, "diod.pid"), log: join(dir, "diod.log"), hosts: join(dir, "diod.hosts") };
}

/**
 * diod looks every client's address up by name (getnameinfo) and drops the connection when
 * that fails: where DNS is down or unreachable, no mount would work, and where it is slow,
 * every mount waits. As root it runs in a mount namespace of its own whose /etc/hosts names
 * the guest, so the lookup never leaves the file.
 */
function privateHosts(f: ReturnType<typeof files>, address: string, guestIp: string, argv: string[]): string[] {
  if (process.getuid?.() !== 0 || !Bun.which("unshare")) return argv;
  // The bridge's own address too: the server's probe of the port comes from it.
  writeFileAtomic(f.hosts, `127.0.0.1 localhost\n${address} shed-bridge\n${guestIp} shed-guest\n`, 0o644);
  return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', f.hosts, ...argv];
}

/** The shed's diod when it runs (its log path, unique to the instance, is on its command line). */
export function diodPid(dir: string): number | undefined {
  const f = files(dir);
  return runningPid(f.pidFile, f.log);
}

/**
 * Starts the shed's diod (unless it runs) and returns where it listens: `port` again when
 * given (a restart after it died), else a free one on `address`. Waits until it accepts.
 */
export async function ensureDiod(binary: string, dir: string, address: string, guestIp: string, shares: NinePShare[], port?: number): Promise<NinePServer> {
  const f = files(dir);
  if (port !== undefined && diodPid(dir)) return { address, port, shares };
  for (let attempt = 1; ; attempt++) {
    const p = port ?? (await freePort(address));
    const diod = [binary, "--foreground", "--no-auth", "--no-userdb", "--config-file", "/dev/null", "--listen", `${address}:${p}`, "--logdest", f.log];
    for (const s of shares) diod.push("--export", s.source);
    const args = privateHosts(f, address, guestIp, diod);
    const out = openSync(f.log, "a", 0o600);
    let proc: ReturnType<typeof Bun.spawn>;
    try {
      proc = Bun.spawn(args, { cwd: dir, detached: true, stdio: ["ignore", out, out], env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/bin" } } as never);
    } catch (err) {
      throw new ShedError("BACKEND_UNAVAILABLE", `cannot run ${binary} (the 9P server for host directories): ${(err as Error).message}; install diod or set firecracker.diod_binary`, { cause: err });
    } finally {
      closeSync(out);
    }
    writeFileAtomic(f.pidFile, `${proc.pid}\n`, 0o600);
    proc.unref();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && proc.exitCode === null && !proc.signalCode) {
      if (await accepts(address, p)) return { address, port: p, shares };
      await Bun.sleep(50);
    }
    proc.kill("SIGKILL");
    rmSync(f.pidFile, { force: true });
    // Someone took the port between the probe and diod's bind: another one (not when it must stay).
    if (port === undefined && attempt < 3) continue;
    throw new ShedError("BACKEND_UNAVAILABLE", `the 9P server (${binary}) did not listen on ${address}:${p}; see ${f.log}`);
  }
}

export async function stopDiod(dir: string): Promise<void> {
  const f = files(dir);
  killByPidFile(f.pidFile, f.log, "SIGTERM");
  if (!(await waitGone(f.pidFile, f.log, 2000))) killByPidFile(f.pidFile, f.log, "SIGKILL");
  if (existsSync(f.pidFile)) rmSync(f.pidFile, { force: true });
}

/**
 * The guest's mount of "$1" at "$2" with options "$3", tried again while the bridge is
 * unreachable from the guest (for at most 30 s). The agent can answer before the guest's
 * network is settled: systemd-networkd takes eth0 over from the kernel's ip= and drops that
 * address until its DHCP lease (the same address, reserved for the shed's MAC) comes, and a
 * mount in that gap fails with "Network is unreachable". Any other failure is final.
 */
const MOUNT_WHILE_UNREACHABLE = `i=0
until out=$(mount -t 9p -o "$3" "$1" "$2" 2>&1); do
  case "$out" in *"Network is unreachable"*|*"No route to host"*) ;; *) echo "$out" >&2; exit 1 ;; esac
  i=$((i + 1))
  if [ "$i" -ge 120 ]; then echo "$out" >&2; exit 1; fi
  sleep 0.25
done`;

/**
 * Mounts every share in the guest (as root, through the agent): 9P over TCP to the bridge,
 * 1:1 uids (access=user), uncached so both sides see each other's writes at once. A mount
 * that fails fails the boot: the shed would otherwise miss its /workspace. `remount` first
 * drops a stale mount (its server was restarted).
 */
export async function mountNineP(agent: AgentConnection, dir: string, server: NinePServer, opts: { remount?: boolean } = {}): Promise<void> {
  for (const s of server.shares) {
    const options = `trans=tcp,port=${server.port},aname=${s.source},version=9p2000.L,uname=root,access=user,msize=262144${s.readonly ? ",ro" : ""}`;
    const script = `${opts.remount ? 'umount -l "$2" 2>/dev/null; ' : ""}mkdir -p "$2" || exit 1\n${MOUNT_WHILE_UNREACHABLE}`;
    const r = await runInShed(agent, { argv: ["sh", "-c", script, "sh", server.address, s.target, options], user: "root", login: false });
    if (r.code !== 0) {
      const log = existsSync(files(dir).log) ? readFileSync(files(dir).log, "utf8").trim().split("\n").slice(-5).join("\n") : "";
      throw new ShedError(
        "MOUNT_FAILED",
        `mounting ${s.source} at ${s.target} over 9P (${server.address}:${server.port}) failed: ${r.stderr.trim() || `exit ${r.code}`}; ` +
          `its 9P server ${diodPid(dir) ? "runs" : "is not running"}${log ? `, its log ends:\n${log}` : ""}\n(the guest kernel needs 9p and 9pnet_fd: seed 002's 9P kernel options)`,
      );
    }
  }
}

/** Lazy unmounts of every share (before a power-off). */
export async function unmountNineP(agent: AgentConnection, server: NinePServer): Promise<void> {
  const targets = server.shares.map((s) => s.target);
  await runInShed(agent, { argv: ["sh", "-c", 'for t; do umount -l "$t" 2>/dev/null; done; true', "sh", ...targets], user: "root", login: false });
}

function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, address, () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
