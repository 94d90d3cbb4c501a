#!/usr/bin/env bun
import { copyFileSync, existsSync, lstatSync, mkdirSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { dlopen, FFIType, ptr } from "bun:ffi";
import { jailCgroups, type CgroupPlan } from "./jailer-cgroups.ts";

/**
 * A stand-in for Firecracker's `jailer` (v1.14.1: docs/jailer.md, src/jailer/src/), for
 * tests only: its command line and what it refuses, with its messages, and its work up to
 * the exec: the jail `<chroot_base>/<exec_file_name>/<id>/root` with the exec file copied
 * in (a hard link is refused), /dev and /run in it, `<exec_file_name>.pid`, the rlimits, the
 * cgroups (jailer-cgroups.ts), the network namespace, the uid/gid, then an exec (the same
 * pid, as the real one without --daemonize/--new-pid-ns) of the copied binary with
 * `--id <id> --start-time-us .. --start-time-cpu-us .. --parent-cpu-time-us ..` and what
 * followed `--`. The one difference: no pivot_root (the stand-in's Bun and QEMU are not in
 * the jail); the exec'd Firecracker stand-in gets SHED_FC_STANDIN_CHROOT instead and resolves
 * every path it is given inside the jail, as a chrooted process would (main.ts).
 * Errors: the message on stderr and exit code 1 (Rust's `main` returning Err).
 */

const SPEC: Record<string, { value: boolean; multiple?: boolean; required?: boolean; fallback?: string }> = {
  id: { value: true, required: true },
  "exec-file": { value: true, required: true },
  uid: { value: true, required: true },
  gid: { value: true, required: true },
  "chroot-base-dir": { value: true, fallback: "/srv/jailer" },
  netns: { value: true },
  daemonize: { value: false },
  "new-pid-ns": { value: false },
  cgroup: { value: true, multiple: true },
  "resource-limit": { value: true, multiple: true },
  "cgroup-version": { value: true, fallback: "1" },
  "parent-cgroup": { value: true },
  version: { value: false },
};

const VERSION = "1.14.1";

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** Firecracker's arg_parser: `--name value`, no `=` form, duplicates refused, `--` ends the jailer's own. */
export function parseJailerArgs(argv: string[]): { single: Map<string, string | true>; multiple: Map<string, string[]>; extra: string[] } {
  const sep = argv.indexOf("--");
  const own = sep < 0 ? argv : argv.slice(0, sep);
  const extra = sep < 0 ? [] : argv.slice(sep + 1);
  const single = new Map<string, string | true>();
  const multiple = new Map<string, string[]>();
  function parse(msg: string): never {
    return fail(`Failed to parse arguments: ${msg}`);
  }
  if (own.includes("--help") || own.includes("-h") || own.includes("--version")) return { single: new Map([["version", true]]), multiple, extra };
  for (let i = 0; i < own.length; i++) {
    const a = own[i]!;
    if (!a.startsWith("--")) parse(`Found argument '${a}' which wasn't expected, or isn't valid in this context.`);
    const name = a.slice(2);
    const spec = SPEC[name];
    if (spec === undefined) return parse(`Found argument '${name}' which wasn't expected, or isn't valid in this context.`);
    if (!spec.multiple && single.has(name)) parse(`The argument '${name}' was provided more than once.`);
    if (!spec.value) {
      single.set(name, true);
      continue;
    }
    const v = own[++i];
    if (v === undefined || v.startsWith("--")) return parse(`The argument '${name}' requires a value, but none was supplied.`);
    if (spec.multiple) multiple.set(name, [...(multiple.get(name) ?? []), v]);
    else single.set(name, v);
  }
  for (const [name, spec] of Object.entries(SPEC)) {
    if (spec.required && !single.has(name)) parse(`Argument '${name}' required, but not found.`);
    if (spec.fallback !== undefined && !single.has(name)) single.set(name, spec.fallback);
  }
  return { single, multiple, extra };
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    fail(`Failed to canonicalize path ${path}: ${osError(e)}`);
  }
}

function osError(e: NodeJS.ErrnoException): string {
  const text: Record<string, string> = { ENOENT: "No such file or directory", EACCES: "Permission denied", ENOTDIR: "Not a directory", EEXIST: "File exists" };
  return `${text[e.code ?? ""] ?? e.message} (os error ${-(e.errno ?? 0)})`;
}

function validateId(id: string): void {
  if (id.length < 1 || id.length > 64) fail(`Invalid instance ID: Invalid len (${id.length});  the length must be between 1 and 64`);
  for (const [i, c] of [...id].entries()) {
    if (c !== "-" && !/^[\p{L}\p{N}]$/u.test(c)) fail(`Invalid instance ID: Invalid char (${c}) at position ${i}`);
  }
}

function parseRlimits(args: string[]): { fsize?: bigint; nofile: bigint } {
  const out: { fsize?: bigint; nofile: bigint } = { nofile: 2048n };
  for (const arg of args) {
    const at = arg.indexOf("=");
    if (at < 0) fail(`Invalid format for resources limits: ${arg}`);
    const [name, value] = [arg.slice(0, at), arg.slice(at + 1)];
    if (!/^\d+$/.test(value) || BigInt(value) > 0xffffffffffffffffn) fail(`Invalid limit value for resource: ${value}: invalid digit found in string`);
    if (name === "fsize") out.fsize = BigInt(value);
    else if (name === "no-file") out.nofile = BigInt(value);
    else fail(`Invalid resource argument: ${name}`);
  }
  return out;
}

const libc = dlopen("libc.so.6", {
  execve: { args: [FFIType.cstring, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  setrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  setns: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  open: { args: [FFIType.cstring, FFIType.i32], returns: FFIType.i32 },
});

function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`);
}

/** execve(2): this process becomes `argv` (the same pid, as the jailer's exec). */
function execve(argv: string[], env: Record<string, string>): never {
  const keep: Buffer[] = [];
  const table = (items: string[]) => {
    const t = new BigUint64Array(items.length + 1);
    items.forEach((s, i) => {
      const b = cstr(s);
      keep.push(b);
      t[i] = BigInt(ptr(b));
    });
    return t;
  };
  const a = table(argv);
  const e = table(Object.entries(env).map(([k, v]) => `${k}=${v}`));
  libc.symbols.execve(cstr(argv[0]!), ptr(a), ptr(e));
  fail(`Failed to exec into Firecracker: ${argv[0]}: exec failed`);
}

function setrlimit(resource: number, value: bigint, what: string): void {
  const lim = new BigUint64Array([value, value]);
  if (libc.symbols.setrlimit(resource, ptr(lim)) !== 0) fail(`Failed to set limit for resource: ${what}`);
}

function main(): void {
  const startUs = Math.floor(performance.timeOrigin * 1000);
  const { single, multiple, extra } = parseJailerArgs(process.argv.slice(2));
  if (single.get("version")) {
    process.stdout.write(`Jailer v${VERSION}\n\n`);
    process.exit(0);
  }
  const id = single.get("id") as string;
  validateId(id);
  const execFile = canonical(single.get("exec-file") as string);
  if (!statSync(execFile).isFile()) fail(`${execFile} is not a file`);
  const execName = basename(execFile);
  const base = canonical(single.get("chroot-base-dir") as string);
  if (!statSync(base).isDirectory()) fail(`${base} is not a directory`);
  const chroot = join(base, execName, id, "root");
  const uid = single.get("uid") as string;
  if (!/^\d+$/.test(uid) || Number(uid) > 0xffffffff) fail(`Invalid uid: ${uid}`);
  const gid = single.get("gid") as string;
  if (!/^\d+$/.test(gid) || Number(gid) > 0xffffffff) fail(`Invalid gid: ${gid}`);
  const parent = (single.get("parent-cgroup") as string | undefined) ?? execName;
  if (parent.startsWith("/") || parent.split("/").some((c) => c === "." || c === "..")) {
    fail("Parent cgroup path is invalid. Path should not be absolute or contain '..' or '.'");
  }
  const version = single.get("cgroup-version") as string;
  if (!/^\d+$/.test(version) || Number(version) > 255) fail(`${version} is an invalid cgroup version specifier`);
  const cgroups: CgroupPlan = jailCgroups(Number(version), parent, id, multiple.get("cgroup") ?? [], fail);
  const rlimits = parseRlimits(multiple.get("resource-limit") ?? []);
  if (single.get("daemonize") || single.get("new-pid-ns")) {
    // shed keeps the console on Firecracker's stdout and the pid its own: neither is emulated.
    fail("jailer stand-in: --daemonize and --new-pid-ns are not emulated");
  }

  // The jail: created (nothing done where it exists), the exec file copied in.
  mkdirSync(chroot, { recursive: true });
  // The real jailer never walks the path to its jail after pivot_root; the stand-in's jailed
  // process does (no chroot): the dirs above the jail need to let its uid through.
  for (const d of [join(base, execName), join(base, execName, id)]) Bun.spawnSync(["chmod", "o+x", d]);
  const jailedExec = join(chroot, execName);
  if (existsSync(jailedExec) && lstatSync(jailedExec).nlink > 1) fail(`Detected hard link at: ${jailedExec}`);
  if (existsSync(jailedExec) && lstatSync(jailedExec).isSymbolicLink()) fail(`Failed to open ${jailedExec}: Too many levels of symbolic links (os error 40)`);
  copyFileSync(execFile, jailedExec);
  Bun.spawnSync(["chown", `${uid}:${gid}`, jailedExec]);
  Bun.spawnSync(["chmod", (statSync(execFile).mode & 0o7777).toString(8), jailedExec]);

  const netns = single.get("netns") as string | undefined;
  if (netns) {
    // Joined from this (the main) thread, the one that execs: the netns goes with the exec.
    const nsFd = libc.symbols.open(cstr(netns), 0o2000000 /* O_CLOEXEC */);
    if (nsFd < 0) fail(`Failed to open file ${netns}: No such file or directory (os error 2)`);
    if (libc.symbols.setns(nsFd, 0x40000000 /* CLONE_NEWNET */) !== 0) fail("Failed to join network namespace: netns: Invalid argument (os error 22)");
  }
  setrlimit(7 /* RLIMIT_NOFILE */, rlimits.nofile, "no-file");
  if (rlimits.fsize !== undefined) setrlimit(1 /* RLIMIT_FSIZE */, rlimits.fsize, "fsize");
  cgroups.apply(process.pid);

  for (const d of ["", "dev", "dev/net", "run"]) {
    mkdirSync(join(chroot, d), { recursive: true, mode: 0o700 });
    Bun.spawnSync(["chmod", "0700", join(chroot, d)]);
    Bun.spawnSync(["chown", `${uid}:${gid}`, join(chroot, d)]);
  }
  // The device nodes Firecracker gets: created (EEXIST on a jail used before, as the real one).
  for (const [node, major, minor] of [
    ["dev/net/tun", 10, 200],
    ["dev/kvm", 10, 232],
  ] as const) {
    const at = join(chroot, node);
    if (existsSync(at)) fail(`Failed to create /${node} via mknod inside the jail: File exists (os error 17)`);
    const made = Bun.spawnSync(["mknod", "-m", "0600", at, "c", String(major), String(minor)], { stderr: "pipe" });
    if (made.exitCode !== 0) fail(`Failed to create /${node} via mknod inside the jail: ${made.stderr.toString().trim()}`);
    Bun.spawnSync(["chown", `${uid}:${gid}`, at]);
  }
  const pidFile = join(chroot, `${execName}.pid`);
  if (existsSync(pidFile)) fail(`Failed to open file ${pidFile}: File exists (os error 17)`);
  writeFileSync(pidFile, String(process.pid), { flag: "wx" });

  const cpuUs = Math.floor(process.cpuUsage().user + process.cpuUsage().system);
  const argv = [jailedExec, "--id", id, "--start-time-us", String(startUs), "--start-time-cpu-us", String(cpuUs), "--parent-cpu-time-us", String(cpuUs), ...extra];
  process.chdir(chroot);
  // The uid and gid dropped by setpriv, which execs (the pid stays): then the jailed binary.
  const setpriv = Bun.which("setpriv") ?? fail("jailer stand-in: setpriv (util-linux) is needed");
  execve([setpriv, `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--", ...argv], {
    // The jailer clears the environment; the stand-in's Firecracker gets PATH and where its jail is.
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    SHED_FC_STANDIN_CHROOT: chroot,
  });
}

if (import.meta.main) main();

