import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The jailer's cgroups for one jail, checked; `apply` puts the process in them. */
export interface CgroupPlan {
  apply(pid: number): void;
}

interface Mount {
  dir: string;
  v2: boolean;
  options: string[];
}

/** Cgroup mounts as the jailer finds them in /proc/mounts (its regex: `<src> <dir> cgroup[2] <options> 0 0`). */
function cgroupMounts(): Mount[] {
  const out: Mount[] = [];
  for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
    const m = /^([a-z2]*)\s(.*)\scgroup(2?)\s(.*)\s0\s0$/.exec(line);
    if (m) out.push({ dir: m[2]!, v2: m[3] === "2", options: m[4]!.split(",") });
  }
  return out;
}

/** This process's cgroup in a hierarchy (v1: by controller; v2: the `0::` line). */
function currentCgroup(controller: string | undefined): string {
  for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
    const [, ctrls, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (ctrls === undefined) continue;
    if (controller === undefined ? ctrls === "" : ctrls.split(",").includes(controller)) return path ?? "/";
  }
  return "/";
}

/**
 * Firecracker's jailer's `--cgroup <file>=<value>` (cgroup.rs, env.rs): the format, the file
 * (no `.`/`..`/absolute components, a `<controller>.<name>`), the version's hierarchy from
 * /proc/mounts, the controller there (v1: a mount with it; v2: cgroup.controllers), and the
 * file in the hierarchy. The cgroup is `<mount>/<parent>/<id>`; `apply` makes it, writes the
 * values (v1: each first inherited from the parent; v2: `+<controller>` in every ancestor's
 * cgroup.subtree_control) and moves the process in (v1 `tasks`, v2 `cgroup.procs`).
 *
 * One restraint the real jailer does not have: a cgroup outside the one this process was put
 * in (a container's, a CI job's) is checked but not entered, since moving out would leave the
 * limits someone else set; that is said on stderr. Where the process sits at a hierarchy's
 * root, the cgroup is made and entered for real.
 */
export function jailCgroups(version: number, parent: string, id: string, args: string[], fail: (msg: string) => never): CgroupPlan {
  const none: CgroupPlan = { apply() {} };
  if (args.length === 0) {
    // v2 without --cgroup: the jailer moves into <unified>/<parent> when it exists (not used by shed).
    if (version === 2 && existsSync(join(v2Root(fail), parent))) fail("jailer stand-in: moving into an existing --parent-cgroup is not emulated");
    return none;
  }
  if (version !== 1 && version !== 2) fail(`${version} is an invalid cgroup version specifier`);
  const mounts = cgroupMounts().filter((m) => m.v2 === (version === 2));
  if (mounts.length === 0) fail("Hierarchy not found: No hierarchy found for this cgroup version.");
  const groups = new Map<string, { location: string; root: string; controller: string; props: [string, string][] }>();
  for (const arg of args) {
    const parts = arg.split("=");
    if (parts.length !== 2 || !parts[1]) fail(`Invalid format for cgroups: ${arg}`);
    const [file, value] = parts as [string, string];
    if (file.startsWith("/") || file.split("/").some((c) => c === "." || c === "..")) fail(`Cgroup invalid file: ${arg}`);
    const dot = file.split(".");
    if (dot.length < 2) fail(`Cgroup invalid file: ${file}`);
    const controller = dot[0]!;
    let root: string;
    if (version === 1) {
      const m = mounts.find((x) => x.options.includes(controller));
      if (!m) fail(`Controller ${controller} is unavailable`);
      root = m.dir;
    } else {
      root = v2Root(fail);
      const available = readFileSync(join(root, "cgroup.controllers"), "utf8").trim().split(/\s+/);
      if (!available.includes(controller)) fail(`Controller ${controller} is unavailable`);
    }
    // Stricter than the real one, which finds out when it writes: the file must exist in the hierarchy.
    if (!existsSync(join(root, file)) && !existsSync(join(root, parent, file))) fail(`Failed to write to ${join(root, parent, id, file)}: No such file or directory (os error 2)`);
    const key = version === 1 ? controller : "unified";
    const g = groups.get(key) ?? { location: join(root, parent, id), root, controller, props: [] };
    g.props.push([file, value]);
    groups.set(key, g);
  }
  return {
    apply(pid) {
      for (const g of groups.values()) {
        const mine = currentCgroup(version === 1 ? g.controller : undefined);
        const target = `/${join(parent, id)}`;
        if (mine !== "/" && !target.startsWith(`${mine}/`)) {
          process.stderr.write(`jailer stand-in: ${g.location} checked, not entered (this process is in ${mine} there)\n`);
          continue;
        }
        mkdirSync(g.location, { recursive: true });
        for (const [file, value] of g.props) {
          if (version === 1) inherit(g.location, file);
          else enableUp(dirname(g.location), g.root, g.controller);
          write(join(g.location, file), value, fail);
        }
        write(join(g.location, version === 1 ? "tasks" : "cgroup.procs"), String(pid), fail);
      }
    },
  };
}

function v2Root(fail: (msg: string) => never): string {
  const m = cgroupMounts().find((x) => x.v2);
  if (!m) fail("Hierarchy not found: cgroupsv2 hierarchy missing");
  return m.dir;
}

/** v1: a new cgroup's value first comes from its parent's (cpuset.cpus and the like start empty). */
function inherit(location: string, file: string): void {
  const fromParent = join(dirname(location), file);
  if (!existsSync(fromParent)) return;
  const line = readFileSync(fromParent, "utf8").trim();
  if (line) {
    try {
      writeFileSync(join(location, file), `${line}\n`);
    } catch {}
  }
}

function enableUp(dir: string, root: string, controller: string): void {
  if (dir !== root && dir.startsWith(root)) enableUp(dirname(dir), root, controller);
  const ctl = join(dir, "cgroup.subtree_control");
  if (existsSync(ctl)) writeFileSync(ctl, `+${controller}\n`);
}

function write(file: string, value: string, fail: (msg: string) => never): void {
  try {
    writeFileSync(file, `${value}\n`);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    fail(`Failed to write to ${file}: ${e.code === "EINVAL" ? "Invalid argument (os error 22)" : e.message}`);
  }
}
