import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { GuestUser } from "./users.ts";

/**
 * The environment a login shell gives a user (PATH from /etc/profile.d, ~/.profile, what
 * installers appended), captured once and reused, so an argv exec starts the program
 * directly instead of paying for a login shell each time. Any change to the files a login
 * shell reads invalidates it.
 */
const cache = new Map<string, { stamp: string; env: Record<string, string> }>();

/** Files whose change can change a login environment; their mtimes form the cache key. */
function profileFiles(user: GuestUser): string[] {
  const files = ["/etc/profile", "/etc/environment", "/etc/bash.bashrc", "/etc/profile.d"];
  try {
    for (const f of readdirSync("/etc/profile.d")) files.push(join("/etc/profile.d", f));
  } catch {}
  for (const f of [".profile", ".bash_profile", ".bash_login", ".bashrc"]) files.push(join(user.home, f));
  return files;
}

function stamp(files: string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${s.mtimeMs}:${s.size}`;
      } catch {
        return "-";
      }
    })
    .join("|");
}

/**
 * The login environment of `user`, or undefined when it cannot be captured (no shell, no
 * `env`): the caller then runs the command through the login shell itself.
 */
export function loginEnv(
  user: GuestUser,
  shell: string,
  base: Record<string, string>,
  ids: { uid?: number; gid?: number },
): Record<string, string> | undefined {
  const key = `${user.name}:${shell}`;
  const now = stamp(profileFiles(user));
  const hit = cache.get(key);
  if (hit && hit.stamp === now) return hit.env;
  const result = Bun.spawnSync([shell, "-lc", "exec env -0"], {
    env: base,
    cwd: "/",
    ...ids,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "ignore",
    timeout: 10_000,
  });
  if (!result.success) return undefined;
  const env: Record<string, string> = {};
  for (const entry of result.stdout.toString().split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  // The shell's own bookkeeping is not part of the user's environment.
  for (const k of ["_", "SHLVL", "PWD", "OLDPWD"]) delete env[k];
  if (!env.PATH) return undefined;
  cache.set(key, { stamp: now, env });
  return env;
}
