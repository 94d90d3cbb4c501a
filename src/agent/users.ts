import { readFileSync } from "node:fs";
import { ShedError } from "../api/errors.ts";

export interface GuestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** The shed user: uid 1000 even in images that do not list it (busybox, distroless). */
const SHED_FALLBACK: GuestUser = { name: "shed", uid: 1000, gid: 1000, home: "/home/shed", shell: "/bin/sh" };
const ROOT_FALLBACK: GuestUser = { name: "root", uid: 0, gid: 0, home: "/root", shell: "/bin/sh" };

/** Resolves a user name or numeric uid against the guest's /etc/passwd. */
export function lookupUser(spec: string, passwdPath = "/etc/passwd"): GuestUser {
  const entries = readPasswd(passwdPath);
  const numeric = /^\d+$/.test(spec) ? Number(spec) : undefined;
  const found = entries.find((u) => (numeric === undefined ? u.name === spec : u.uid === numeric));
  if (found) return found;
  if (spec === "shed" || numeric === 1000) return SHED_FALLBACK;
  if (spec === "root" || numeric === 0) return ROOT_FALLBACK;
  if (numeric !== undefined) return { name: spec, uid: numeric, gid: numeric, home: "/", shell: "/bin/sh" };
  throw new ShedError("INVALID_REQUEST", `no user "${spec}" in the shed's ${passwdPath}: use a name it lists or a uid`);
}

/** The user's other groups from the guest's /etc/group (as initgroups would set them). */
export function supplementaryGroups(user: GuestUser, groupPath = "/etc/group"): number[] {
  let text: string;
  try {
    text = readFileSync(groupPath, "utf8");
  } catch {
    return [];
  }
  const gids = new Set<number>();
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 4 || line.startsWith("#")) continue;
    const gid = Number(f[2]);
    if (Number.isInteger(gid) && gid !== user.gid && f[3]!.split(",").includes(user.name)) gids.add(gid);
  }
  return [...gids];
}

function readPasswd(path: string): GuestUser[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const users: GuestUser[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || line.startsWith("#")) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    users.push({ name: f[0]!, uid, gid, home: f[5] || "/", shell: f[6] || "/bin/sh" });
  }
  return users;
}
