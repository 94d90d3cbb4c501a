import { chmodSync, closeSync, existsSync, openSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import { writeFileAtomic } from "../../fs/atomic-file.ts";
import { findTool, openTap } from "../vm-network/index.ts";
import type { VmLayout } from "./command.ts";
import { QmpClient } from "./qmp.ts";
import { listenUnixFd } from "./unix-listener.ts";
import type { VmmUser } from "./vmm-user.ts";

/** Where QEMU's own stderr goes (one boot's worth), beside the console log. */
export function qemuLogPath(layout: Pick<VmLayout, "dir">): string {
  return join(layout.dir, "qemu.log");
}

/**
 * The process of a VM, started confined. QEMU 7.2 installs its seccomp filter (command.ts
 * SANDBOX) before it would daemonize or switch user, and the filter forbids fork, setsid and
 * set*id: with `-daemonize` or `-runas` it kills itself. So the launcher does both instead,
 * as libvirt does: QEMU starts in its own session (it survives a restart or SIGKILL of the
 * server), already as the VMM user with no capabilities and no_new_privs (setpriv), with
 * its files opened and its sockets bound by the server (VM_FDS) and a minimal environment.
 * Returns once QEMU answers on QMP (set up, running) with its pid in layout.pidFile; a QEMU
 * that exits first fails with its own error.
 */
export async function launchVm(opts: { binary: string; args: string[]; layout: VmLayout; tap?: string; user?: VmmUser }): Promise<number> {
  const { layout, user } = opts;
  const argv = [...dropTo(user), opts.binary, ...opts.args];
  const fds: number[] = [];
  const kept = (fd: number) => {
    fds.push(fd);
    return fd;
  };
  const open = (path: string, flags: string, mode?: number) => kept(openSync(path, flags, mode));
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    // Read through /proc/self/fd: QEMU opens them again as its user (the dir stays root's).
    for (const file of [layout.kernel, layout.initrd]) if ((statSync(file).mode & 0o004) === 0) chmodSync(file, 0o644);
    const log = open(qemuLogPath(layout), "w", 0o600);
    const stdio: (number | "ignore")[] = [
      open(layout.upper, "r+"),
      open(layout.upper, "r"),
      open(layout.lower, "r"),
      open(layout.console, "a", 0o600),
      open(layout.kernel, "r"),
      open(layout.initrd, "r"),
      kept(await listenUnixFd(layout.qmpSocket)),
      opts.tap ? kept(await openTap(opts.tap)) : "ignore",
      layout.agentSocket ? kept(await listenUnixFd(layout.agentSocket)) : "ignore",
    ];
    try {
      proc = Bun.spawn(argv, {
        cwd: "/",
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C" },
        detached: true,
        stdio: ["ignore", log, log, ...stdio],
      } as never);
    } catch (err) {
      throw new ShedError(
        "BACKEND_UNAVAILABLE",
        `cannot run ${opts.binary}: ${(err as Error).message}; install QEMU (apt-get install qemu-system-x86) or set qemu.binary in server.yaml`,
        { cause: err },
      );
    }
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  writeFileAtomic(layout.pidFile, `${proc.pid}\n`, 0o600);
  try {
    await untilReady(proc, layout.qmpSocket);
  } catch (err) {
    proc.kill("SIGKILL");
    await proc.exited;
    const said = existsSync(qemuLogPath(layout)) ? readFileSync(qemuLogPath(layout), "utf8").trim().slice(-800) : "";
    const who = user ? ` (QEMU runs as ${user.label})` : "";
    throw new ShedError("BACKEND_UNAVAILABLE", `QEMU failed to start the VM${who}: ${said || (err as Error).message}`);
  }
  proc.unref();
  return proc.pid;
}

/** setpriv's argv prefix that becomes `user` with nothing of root left; empty when not root. */
function dropTo(user: VmmUser | undefined): string[] {
  if (!user) return [];
  const setpriv = findTool("setpriv");
  if (!setpriv) throw new ShedError("BACKEND_UNAVAILABLE", "setpriv is needed to run QEMU unprivileged: apt-get install util-linux");
  return [
    setpriv,
    `--reuid=${user.uid}`,
    `--regid=${user.gid}`,
    user.groups.length ? `--groups=${user.groups.join(",")}` : "--clear-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
    "--no-new-privs",
    "--",
  ];
}

/** QMP answers once QEMU has set the machine up; an exit before that is a failed start. */
async function untilReady(proc: ReturnType<typeof Bun.spawn>, qmpSocket: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode) throw new Error(`QEMU exited (${proc.exitCode ?? proc.signalCode}) while starting`);
    try {
      const qmp = await QmpClient.connect(qmpSocket, 2000);
      try {
        await qmp.execute("query-status");
        return;
      } finally {
        qmp.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`QEMU did not answer on QMP within ${timeoutMs / 1000}s: ${(err as Error).message}`);
      await Bun.sleep(50);
    }
  }
}
