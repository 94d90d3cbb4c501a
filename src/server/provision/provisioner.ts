import { existsSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import type { AgentConnection } from "../../agent/protocol/api.ts";
import { ShedError } from "../../api/errors.ts";
import type { CreateShedRequest } from "../../api/schemas/shed.ts";
import type { Backend, MountSpec } from "../../backends/backend.ts";
import type { Logger } from "../../log/logger.ts";
import type { HookContext, LifecycleHooks } from "../sheds/hooks.ts";
import { runInShed } from "../sheds/run-in-shed.ts";
import type { ShedRecord } from "../state/shed-record.ts";
import { type HookName, PROVISION_FILE, type ProvisionFile, parseProvisionFile } from "./provision-file.ts";

export const WORKSPACE = "/workspace";
const STATE_DIR = "/var/lib/shed-provision";
const LOG_DIR = "/var/log/shed";
const PATH_FILE = "/etc/profile.d/shed-installed-tools.sh";
/** Bytes of hook output kept for its log file. */
const LOG_CAP = 4 * 1024 * 1024;

/**
 * Seed 004's provisioning: host directories as mounts (--local-dir, --add-dir), then the
 * workspace's .shed/provision.yaml hooks: install once (a state file in the shed marks it
 * done, so a failed install runs again on the next start), PATH capture, startup on every
 * start, shutdown before stop and delete within its budget. Hooks run as the shed user in
 * a login shell in /workspace; their output streams as progress and lands in
 * /var/log/shed/<hook>.log. Every failure here is a warning, never a failed create.
 */
export class Provisioner implements LifecycleHooks {
  constructor(private readonly logger: Logger) {}

  async prepare(record: ShedRecord, req: CreateShedRequest, backend: Backend): Promise<void> {
    const mounts: MountSpec[] = [];
    if (req.localDir) mounts.push({ source: hostDir(req.localDir, "--local-dir"), target: WORKSPACE, readonly: false });
    for (const spec of req.addDirs ?? []) mounts.push(parseAddDir(spec));
    if (mounts.length > 0 && !backend.features.localDir) {
      throw new ShedError("UNSUPPORTED", `the ${record.backend} backend cannot mount host directories (--local-dir, --add-dir) yet; use the docker backend`);
    }
    record.mounts = mounts;
    record.provision = { disabled: req.noProvision === true };
  }

  afterCreate(ctx: HookContext): Promise<string[]> {
    return this.lifecycle(ctx, ["install", "startup"]);
  }

  afterStart(ctx: HookContext): Promise<string[]> {
    return this.lifecycle(ctx, ["install", "startup"]);
  }

  beforeStop(ctx: HookContext & { budgetMs: number }): Promise<string[]> {
    return this.lifecycle(ctx, ["shutdown"], ctx.budgetMs);
  }

  private async lifecycle(ctx: HookContext, hooks: HookName[], budgetMs?: number): Promise<string[]> {
    if (ctx.record.provision.disabled) return [];
    const file = await readProvisionFile(ctx.agent);
    if (typeof file === "string") return [file];
    if (!file) return [];
    const warnings: string[] = [];
    for (const hook of hooks) {
      const script = file.hooks[hook];
      if (!script) continue;
      if (hook === "install" && (await installDone(ctx.agent))) continue;
      const warning = await this.runHook(ctx, file, hook, script, budgetMs);
      if (warning) warnings.push(warning);
      else if (hook === "install") {
        await runInShed(ctx.agent, { argv: ["sh", "-c", `mkdir -p ${STATE_DIR} && date > ${STATE_DIR}/install.done`], user: "root" });
        const pathWarning = await capturePath(ctx.agent);
        if (pathWarning) warnings.push(pathWarning);
      }
    }
    for (const w of warnings) this.logger.warn("provisioning", { shed: ctx.record.name, warning: w });
    return warnings;
  }

  /** Runs one hook; undefined when it succeeded, else the warning. */
  private async runHook(ctx: HookContext, file: ProvisionFile, hook: HookName, script: string, budgetMs?: number): Promise<string | undefined> {
    const { agent, record, progress } = ctx;
    progress({ id: hook, status: `running ${script}` });
    const env = { SHED_CONTAINER: "true", SHED_NAME: record.name, SHED_WORKSPACE: WORKSPACE, ...record.env, ...file.env };
    // Not executable in a fresh checkout? Make it so, or hand it to bash.
    const command = `s=${shellQuote(script)}; [ -x "$s" ] || chmod +x "$s" 2>/dev/null; if [ -x "$s" ]; then exec "$s"; else exec bash "$s"; fi`;
    const proc = await agent.exec({ command, env, cwd: WORKSPACE });
    await proc.stdin.close().catch(() => {});
    let timedOut = false;
    const timer =
      budgetMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            proc.signal("SIGKILL");
          }, budgetMs);
    let log = "";
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      let pending = "";
      for await (const chunk of stream) {
        const text = decoder.decode(chunk, { stream: true });
        if (log.length < LOG_CAP) log += text;
        pending += text;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) progress({ id: hook, status: line });
      }
      if (pending) progress({ id: hook, status: pending });
    };
    await Promise.all([collect(proc.stdout), collect(proc.stderr)]);
    const status = await proc.exit;
    clearTimeout(timer);
    await runInShed(agent, { argv: ["sh", "-c", `mkdir -p ${LOG_DIR} && cat > ${LOG_DIR}/${hook}.log`], user: "root" }, log).catch(() => undefined);
    const where = `see ${LOG_DIR}/${hook}.log in the shed`;
    if (timedOut) return `${hook} hook (${script}) took longer than its ${Math.round(budgetMs! / 1000)} s budget and was stopped; ${where}`;
    if (status.code !== 0) return `${hook} hook (${script}) failed with exit ${status.code}; ${where}`;
    progress({ id: hook, status: "done" });
    return undefined;
  }
}

async function readProvisionFile(agent: AgentConnection): Promise<ProvisionFile | string | undefined> {
  const path = `${WORKSPACE}/${PROVISION_FILE}`;
  const r = await runInShed(agent, { argv: ["cat", path], login: false });
  if (r.code !== 0) return undefined;
  return parseProvisionFile(r.stdout, path);
}

async function installDone(agent: AgentConnection): Promise<boolean> {
  return (await runInShed(agent, { argv: ["test", "-e", `${STATE_DIR}/install.done`], login: false })).code === 0;
}

/**
 * The PATH the shed user ends up with after install, .bashrc additions (installers append
 * there) and mise shims included, written where every login shell reads it.
 */
async function capturePath(agent: AgentConnection): Promise<string | undefined> {
  const probe = 'p=$(bash -ic \'printf %s "$PATH"\' 2>/dev/null) || p=$PATH; m="$HOME/.local/share/mise/shims"; [ -d "$m" ] && p="$m:$p"; printf %s "$p"';
  const r = await runInShed(agent, { argv: ["sh", "-c", probe], login: false });
  if (r.code !== 0 || !r.stdout) return "could not capture the PATH after install";
  const body = `# Written by shed after the install hook: the PATH its installers set up.\nexport PATH=${shellQuote(r.stdout)}\n`;
  const w = await runInShed(agent, { argv: ["sh", "-c", `mkdir -p /etc/profile.d && cat > ${PATH_FILE}`], user: "root" }, body);
  return w.code === 0 ? undefined : `could not write ${PATH_FILE}: ${w.stderr.trim()}`;
}

function hostDir(path: string, flag: string): string {
  if (!isAbsolute(path)) throw new ShedError("INVALID_REQUEST", `${flag} ${path}: give an absolute path on the server's host`);
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new ShedError("INVALID_REQUEST", `${flag} ${path} is not a directory on the server's host`);
  }
  return path;
}

/** SRC[:DST][:ro]; DST defaults to /workspace/<basename of SRC>. */
export function parseAddDir(spec: string): MountSpec {
  const parts = spec.split(":");
  const readonly = parts.at(-1) === "ro";
  if (readonly) parts.pop();
  const [src = "", dst, ...rest] = parts;
  if (rest.length > 0 || !src) throw new ShedError("INVALID_REQUEST", `--add-dir takes SRC[:DST][:ro], not "${spec}"`);
  const target = dst ?? `${WORKSPACE}/${src.replace(/\/+$/, "").split("/").pop()}`;
  if (!isAbsolute(target)) throw new ShedError("INVALID_REQUEST", `--add-dir ${spec}: the target ${target} must be an absolute path in the shed`);
  return { source: hostDir(src, "--add-dir"), target, readonly };
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
