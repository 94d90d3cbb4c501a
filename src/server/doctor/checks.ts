import { existsSync, mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { DoctorCheck } from "../../backends/definition.ts";
import { defaultBackends } from "../../backends/registry.ts";
import type { ServerConfig } from "../config/schema.ts";
import { AuthorizedKeys } from "../ssh/authorized-keys.ts";
import { portState } from "./ports.ts";

/** One line of doctor (backends make theirs: definition.ts). */
export type CheckResult = DoctorCheck;

const pass = (check: string, message: string): CheckResult => ({ check, status: "PASS", message });
const warn = (check: string, message: string, fix: string): CheckResult => ({ check, status: "WARN", message, fix });
const fail = (check: string, message: string, fix: string): CheckResult => ({ check, status: "FAIL", message, fix });

export interface DoctorContext {
  config: ServerConfig;
  stateDir: string;
  enabled: string[];
  /** KVM probe deadline (the server's own by default). */
  kvmTimeoutMs?: number;
}

export function doctorContext(config: ServerConfig): DoctorContext {
  return { config, stateDir: resolve(config.state_dir), enabled: config.enabled_backends ?? defaultBackends() };
}

const GiB = 1024 ** 3;

export function checkDisk(ctx: DoctorContext): CheckResult {
  const at = existingAncestor(ctx.stateDir);
  const st = statfsSync(at);
  const free = Number(st.bavail) * Number(st.bsize);
  const message = `${(free / GiB).toFixed(1)} GiB free for the state dir (${at})`;
  const fix = "free space on that filesystem or move state_dir to a larger one (images and sheds need gigabytes)";
  if (free < 2 * GiB) return fail("disk", message, fix);
  if (free < 10 * GiB) return warn("disk", message, fix);
  return pass("disk", message);
}

/** Each configured port: free, or held by the shed-server of this state dir. */
export function checkPorts(ctx: DoctorContext): CheckResult[] {
  const host = ctx.config.bind_address;
  const ours = serverPid(ctx.stateDir);
  const ports: [string, number][] = [["http port", ctx.config.http_port]];
  if (ctx.config.ssh.enabled) ports.push(["ssh port", ctx.config.ssh_port]);
  return ports.map(([check, port]) => {
    if (port === 0) return pass(check, "0: a free port is picked at start");
    const state = portState(host, port);
    if (state.free) return pass(check, `${host}:${port} is free`);
    if (state.pid !== undefined && state.pid === ours) return pass(check, `${host}:${port} is held by this server (pid ${ours})`);
    const who = state.pid ? `pid ${state.pid}${state.command ? ` (${state.command})` : ""}` : "another process";
    const key = check === "http port" ? "http_port" : "ssh_port";
    return fail(check, `${host}:${port} is in use by ${who}`, `stop it, or set ${key} in server.yaml to a free port`);
  });
}

export function checkSshKeys(ctx: DoctorContext): CheckResult {
  const ssh = ctx.config.ssh;
  if (!ssh.enabled) return pass("ssh keys", "SSH door disabled (ssh.enabled: false)");
  const keys = new AuthorizedKeys(ssh.authorized_keys);
  const count = keys.count();
  const files = keys.paths().join(", ");
  if (count > 0) return pass("ssh keys", `${count} authorized key${count === 1 ? "" : "s"} in ${files}`);
  const loopback = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(ctx.config.bind_address);
  const mode = ssh.auth ?? (loopback ? "warn" : "enforce");
  if (mode === "off") return pass("ssh keys", "none needed: ssh.auth is off");
  return warn(
    "ssh keys",
    `no authorized keys in ${files}${mode === "enforce" ? ": nobody can log in through the SSH door" : ""}`,
    `add your public key: cat ~/.ssh/id_ed25519.pub >> ${keys.paths()[0] ?? "~/.ssh/authorized_keys"} (or set ssh.authorized_keys)`,
  );
}

export function checkStateDir(ctx: DoctorContext): CheckResult {
  const dir = ctx.stateDir;
  const fix = `run shed-server as the user that owns ${dir} (or root), or set state_dir to a directory it may write`;
  if (!existsSync(dir)) {
    const parent = existingAncestor(dir);
    try {
      const probe = join(parent, `.shed-doctor-${process.pid}`);
      mkdirSync(probe);
      rmSync(probe, { recursive: true });
      return pass("state dir", `${dir} does not exist yet; it can be created in ${parent}`);
    } catch (err) {
      return fail("state dir", `${dir} does not exist and cannot be created in ${parent}: ${(err as NodeJS.ErrnoException).code}`, fix);
    }
  }
  const file = join(dir, `.shed-doctor-${process.pid}`);
  try {
    writeFileSync(file, "ok");
    if (readFileSync(file, "utf8") !== "ok") throw new Error("read back something else");
    rmSync(file);
    return pass("state dir", `${dir} is readable and writable`);
  } catch (err) {
    rmSync(file, { force: true });
    return fail("state dir", `${dir} is not readable and writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, fix);
  }
}

function serverPid(stateDir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(stateDir, "server.pid"), "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function existingAncestor(path: string): string {
  let p = resolve(path);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}
