import { existsSync, statSync } from "node:fs";
import { ShedError } from "../../api/errors.ts";
import { findTool } from "../vm-network/index.ts";
import type { Share } from "./command.ts";

/** The unprivileged user QEMU runs as (launch.ts drops to it before QEMU starts). */
export interface VmmUser {
  uid: number;
  gid: number;
  /** Supplementary groups: those of /dev/kvm and /dev/vhost-vsock when QEMU needs them. */
  groups: number[];
  /** For messages: "shed-vmm", "uid 1000 (owner of /home/me/proj)". */
  label: string;
}

/** The system user the server makes for its VMMs when none is configured. */
export const DEFAULT_VMM_USER = "shed-vmm";

/**
 * Who a VM's QEMU runs as, never root:
 * - `qemu.run_as` when set (a user name, or uid[:gid]);
 * - else the owner of the shed's read-write host directories (--local-dir, --add-dir,
 *   writable config mounts) when that is one non-root user: files the guest makes there
 *   are then that user's, as they would be had they made them themselves (9p gives new
 *   files QEMU's owner). The guest can already write that user's files through the share;
 * - else the system user shed-vmm, made on first use.
 * Undefined when the server itself is not root: QEMU then runs as the server's user.
 */
export async function vmmUser(opts: { runAs?: string; shares: Share[]; devices: string[] }): Promise<VmmUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const groups = deviceGroups(opts.devices);
  if (opts.runAs) return { ...resolveUser(opts.runAs, "qemu.run_as"), groups };
  const owners = new Map<number, { gid: number; path: string }>();
  for (const share of opts.shares) {
    if (share.readonly) continue;
    try {
      const st = statSync(share.path);
      if (st.uid !== 0 && !owners.has(st.uid)) owners.set(st.uid, { gid: st.gid, path: share.path });
    } catch {}
  }
  if (owners.size > 1) {
    const list = [...owners].map(([uid, o]) => `${o.path} (uid ${uid})`).join(", ");
    throw new ShedError(
      "INVALID_REQUEST",
      `the shed's writable host directories belong to different users: ${list}; a VM's QEMU runs as one user: share directories of one user, or set qemu.run_as in server.yaml`,
    );
  }
  const [owner] = owners;
  if (owner) return { uid: owner[0], gid: owner[1].gid, groups, label: `uid ${owner[0]} (owner of ${owner[1].path})` };
  return { ...(await systemUser()), groups };
}

function resolveUser(spec: string, where: string): Omit<VmmUser, "groups"> {
  const numeric = /^(\d+)(?::(\d+))?$/.exec(spec);
  let user: Omit<VmmUser, "groups"> | undefined;
  if (numeric) {
    const uid = Number(numeric[1]);
    user = { uid, gid: numeric[2] ? Number(numeric[2]) : (lookup(String(uid))?.gid ?? uid), label: `uid ${uid}` };
  } else {
    user = lookup(spec);
    if (!user) throw new ShedError("INVALID_CONFIG", `${where}: there is no user "${spec}" on this host (useradd --system ${spec}, or give uid:gid)`);
  }
  if (user.uid === 0 || user.gid === 0) {
    throw new ShedError("INVALID_CONFIG", `${where} must name an unprivileged user, not root (uid 0 / gid 0): ${spec}`);
  }
  return user;
}

/** A passwd entry by name or uid, through NSS (getent). */
function lookup(key: string): Omit<VmmUser, "groups"> | undefined {
  const p = Bun.spawnSync(["getent", "passwd", key], { stdout: "pipe", stderr: "ignore" });
  const fields = p.exitCode === 0 ? p.stdout.toString().split("\n")[0]!.split(":") : [];
  if (fields.length < 4) return undefined;
  return { uid: Number(fields[2]), gid: Number(fields[3]), label: fields[0]! };
}

let made: Promise<Omit<VmmUser, "groups">> | undefined;

/** shed-vmm, made once (a system user with no home and no login shell). */
function systemUser(): Promise<Omit<VmmUser, "groups">> {
  made ??= (async () => {
    const found = lookup(DEFAULT_VMM_USER);
    if (found) return found;
    const useradd = findTool("useradd");
    const hint = `create an unprivileged system user for QEMU (useradd --system ${DEFAULT_VMM_USER}) or set qemu.run_as in server.yaml`;
    if (!useradd) throw new ShedError("BACKEND_UNAVAILABLE", `useradd is not installed: ${hint}`);
    const p = Bun.spawn(
      [useradd, "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "--comment", "shed VM monitors (QEMU)", DEFAULT_VMM_USER],
      { stdout: "ignore", stderr: "pipe" },
    );
    const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
    // Another server may have made it meanwhile: what counts is that it exists now.
    const now = lookup(DEFAULT_VMM_USER);
    if (now) return now;
    throw new ShedError("BACKEND_UNAVAILABLE", `could not create the user ${DEFAULT_VMM_USER} (exit ${code}: ${err.trim()}): ${hint}`);
  })();
  made.catch(() => {
    made = undefined;
  });
  return made;
}

/** Groups that open the device nodes QEMU needs (not for world-usable ones, never root's group). */
function deviceGroups(devices: string[]): number[] {
  const gids = new Set<number>();
  for (const dev of devices) {
    if (!existsSync(dev)) continue;
    const st = statSync(dev);
    if ((st.mode & 0o006) !== 0o006 && st.gid !== 0) gids.add(st.gid);
  }
  return [...gids];
}
