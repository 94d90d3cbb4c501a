import { existsSync, mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DockerEngine } from "../../backends/docker/engine.ts";
import { kvmOpenable, knownKernels, probeKvm } from "../../backends/qemu/accel.ts";
import { defaultBinary } from "../../backends/qemu/command.ts";
import { knownBackends } from "../../backends/registry.ts";
import type { ServerConfig } from "../config/schema.ts";
import { AuthorizedKeys } from "../ssh/authorized-keys.ts";
import { portState } from "./ports.ts";

export type CheckStatus = "PASS" | "WARN" | "FAIL";

export interface CheckResult {
  /** Short and stable: what `--json` consumers key on. */
  check: string;
  status: CheckStatus;
  message: string;
  /** What to do, for WARN and FAIL. */
  fix?: string;
}

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
  return { config, stateDir: resolve(config.state_dir), enabled: config.enabled_backends ?? knownBackends() };
}

export async function checkDocker(ctx: DoctorContext): Promise<CheckResult> {
  const socket = ctx.config.docker.socket;
  if (!ctx.enabled.includes("docker")) return pass("docker", "docker backend not enabled (enabled_backends)");
  if (!existsSync(socket)) {
    return fail("docker", `no Docker engine socket at ${socket}`, "install Docker (apt-get install docker.io) and start it (systemctl start docker, or dockerd); or set docker.socket");
  }
  try {
    const v = await new DockerEngine(socket).version();
    return pass("docker", `Docker engine ${v.Version} (API ${v.ApiVersion}) answers on ${socket}`);
  } catch (err) {
    const denied = /EACCES|permission/i.test(String((err as Error).message));
    return fail(
      "docker",
      `the Docker engine at ${socket} does not answer: ${(err as Error).message}`,
      denied ? "run shed-server as root or add its user to the docker group" : "start dockerd (systemctl start docker, or dockerd &)",
    );
  }
}

function qemuBinary(ctx: DoctorContext): string {
  return ctx.config.qemu.binary ?? defaultBinary();
}

export function checkQemu(ctx: DoctorContext): CheckResult {
  if (!ctx.enabled.includes("qemu")) return pass("qemu", "qemu backend not enabled (enabled_backends)");
  const binary = qemuBinary(ctx);
  const path = Bun.which(binary);
  if (!path) return fail("qemu", `${binary} not found`, "apt-get install qemu-system-x86 (or set qemu.binary in server.yaml)");
  const out = Bun.spawnSync([path, "--version"], { stdout: "pipe", stderr: "pipe" });
  const version = out.stdout.toString().split("\n")[0]?.trim();
  if (out.exitCode !== 0) return fail("qemu", `${path} --version failed: ${out.stderr.toString().trim().slice(-200)}`, "reinstall QEMU (apt-get install --reinstall qemu-system-x86)");
  return pass("qemu", `${version} (${path})`);
}

/** KVM, decided the way the server decides: by booting a real Linux kernel under it. */
export async function checkKvm(ctx: DoctorContext): Promise<CheckResult> {
  if (!ctx.enabled.includes("qemu")) return pass("kvm", "not needed: no VM backend enabled");
  const setting = ctx.config.qemu.accel;
  if (setting === "tcg") return pass("kvm", "not used: qemu.accel is tcg (VMs run emulated)");
  // Forced KVM that does not work is an error; with auto it is a slower shed, not a broken one.
  const bad = (message: string, fix: string) =>
    setting === "kvm" ? fail("kvm", message, `${fix}; or set qemu.accel: auto`) : warn("kvm", `${message}; VMs run emulated under TCG (slow)`, fix);
  const open = kvmOpenable();
  if (!open.ok) {
    return bad(open.reason!, "enable hardware virtualization (firmware, or nested virtualization of the host VM) and load the kvm module");
  }
  const binary = qemuBinary(ctx);
  if (!Bun.which(binary)) return bad(`cannot test KVM: ${binary} not found`, "apt-get install qemu-system-x86");
  const kernel = knownKernels(ctx.stateDir)[0];
  if (!kernel) {
    return warn("kvm", "/dev/kvm opens, but no Linux kernel is known yet to test it with (the first VM create tests it)", "build a guest image (make image-base) and run shed-server doctor again");
  }
  const result = await probeKvm(binary, kernel, ctx.kvmTimeoutMs);
  if (result.ok) return pass("kvm", `KVM boots a Linux kernel (${kernel}) to its init in ${((result.ms ?? 0) / 1000).toFixed(1)}s`);
  return bad(result.reason!, "fix the host's KVM (nested virtualization settings of the machine hosting it)");
}

export function checkTools(ctx: DoctorContext): CheckResult[] {
  const vm = ctx.enabled.some((b) => b !== "docker");
  const tool = (check: string, command: string, pkg: string, why: string): CheckResult => {
    if (Bun.which(command)) return pass(check, `${command} found (${why})`);
    if (!vm) return pass(check, `${command} not found, not needed: no VM backend enabled`);
    return fail(check, `${command} not found (${why})`, `apt-get install ${pkg}`);
  };
  return [
    tool("erofs-utils", "mkfs.erofs", "erofs-utils", "image roots of VM sheds"),
    tool("e2fsprogs", "mkfs.ext4", "e2fsprogs", "writable disks of VM sheds"),
  ];
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
