import type { AgentConnection } from "../../agent/protocol/api.ts";
import { copyIntoShed, ownerFor, planCopy } from "../../transfer/copy-in.ts";
import { runInShed } from "../../agent/protocol/run-in-shed.ts";
import type { CreateShedRequest } from "../../api/schemas/shed.ts";
import type { Backend, MountSpec } from "../../backends/backend.ts";
import type { Logger } from "../../log/logger.ts";
import type { ServerConfig } from "../config/schema.ts";
import type { HookContext, LifecycleHooks } from "../sheds/hooks.ts";
import type { ShedRecord } from "../state/shed-record.ts";
import { readEnvFile } from "./env-file.ts";
import { planHostMounts, WORKSPACE } from "./host-mounts.ts";
import { type HookName, PROVISION_FILE, type ProvisionFile, parseProvisionFile } from "./provision-file.ts";
import { repoName, repoUrl } from "./repo-url.ts";
import { readSmallFile } from "./small-file.ts";
import { runStreamed } from "./streamed-command.ts";

const STATE_DIR = "/var/lib/shed-provision";
const LOG_DIR = "/var/log/shed";
const PATH_FILE = "/etc/profile.d/shed-installed-tools.sh";
/** A provision file is a few lines; a bigger one is refused, not read into the server. */
const MAX_PROVISION_FILE = 256 * 1024;

/** What the provisioner keeps in the shed's record between create, start and stop. */
interface ProvisionState {
  disabled?: boolean;
  repo?: string;
  /** Config mounts the backend cannot mount: copied in on create and every start. */
  copies?: MountSpec[];
}

/**
 * Seed 004's provisioning, in its order: host mounts (the backend's, planned here), then in
 * the running shed credentials copied in, the repo cloned, the install hook once (a state
 * file in the shed marks it done, so a failed install runs again on the next start), PATH
 * capture, the startup hook on every start, the shutdown hook before stop and delete within
 * its budget. Steps run as the shed user in a login shell with the SHED_* variables, the
 * server's env_file and the provision env; their output streams as progress and lands in
 * /var/log/shed/<step>.log. Every failure after the boot is a warning, never a failed create.
 */
export class Provisioner implements LifecycleHooks {
  constructor(
    private readonly logger: Logger,
    private readonly config: ServerConfig,
  ) {}

  async prepare(record: ShedRecord, req: CreateShedRequest, backend: Backend): Promise<string[]> {
    const plan = planHostMounts(this.config, req, record.backend, backend.features);
    const state: ProvisionState = {
      ...(req.noProvision ? { disabled: true } : {}),
      ...(req.repo ? { repo: repoUrl(req.repo) } : {}),
      ...(plan.copies.length ? { copies: plan.copies } : {}),
    };
    record.spec.mounts = plan.mounts;
    record.provision = state as Record<string, unknown>;
    return plan.warnings;
  }

  afterCreate(ctx: HookContext): Promise<string[]> {
    return this.provisioning(ctx, () =>
      this.run(ctx, async (warn, env) => {
        const state = stateOf(ctx.record);
        if (state.repo) warn(await this.clone(ctx, state.repo, env));
        await this.hooks(ctx, ["install", "startup"], env, warn);
      }),
    );
  }

  afterStart(ctx: HookContext): Promise<string[]> {
    return this.provisioning(ctx, () => this.run(ctx, (warn, env) => this.hooks(ctx, ["install", "startup"], env, warn)));
  }

  /** Marks provisioning's start and end as progress: `create --timings` tells it from the agent's wait by these. */
  private async provisioning(ctx: HookContext, fn: () => Promise<string[]>): Promise<string[]> {
    ctx.progress({ id: "provision", status: "provisioning" });
    const warnings = await fn();
    ctx.progress({ id: "provision", status: "done" });
    return warnings;
  }

  beforeStop(ctx: HookContext & { budgetMs: number }): Promise<string[]> {
    return this.run(ctx, (warn, env) => this.hooks(ctx, ["shutdown"], env, warn, ctx.budgetMs), { copies: false });
  }

  /** Credentials first (seed 004: hooks may use them), then `steps`; warnings collected. */
  private async run(
    ctx: HookContext,
    steps: (warn: (w: string | undefined) => void, env: Record<string, string>) => Promise<void>,
    opts: { copies?: boolean } = {},
  ): Promise<string[]> {
    const warnings: string[] = [];
    const warn = (w: string | undefined) => {
      if (w) warnings.push(w);
    };
    if (opts.copies !== false) {
      for (const copy of stateOf(ctx.record).copies ?? []) warn(await copyMount(ctx.agent, copy));
    }
    const fileEnv = this.config.env_file ? readEnvFile(this.config.env_file) : { env: {}, warnings: [] };
    fileEnv.warnings.forEach(warn);
    const env = { SHED_CONTAINER: "true", SHED_NAME: ctx.record.name, SHED_WORKSPACE: WORKSPACE, ...fileEnv.env, ...ctx.record.spec.env };
    await steps(warn, env);
    for (const w of warnings) this.logger.warn("provisioning", { shed: ctx.record.name, warning: w });
    return warnings;
  }

  /** git clone into /workspace as the shed user; never prompts (no terminal to answer). */
  private async clone(ctx: HookContext, url: string, env: Record<string, string>): Promise<string | undefined> {
    const { agent } = ctx;
    ctx.progress({ id: "clone", status: `cloning ${url}` });
    const prep = await runInShed(agent, {
      argv: ["sh", "-c", `mkdir -p ${WORKSPACE} && if [ -z "$(ls -A ${WORKSPACE})" ]; then chown 1000:1000 ${WORKSPACE}; else echo not-empty; fi`],
      user: "root",
      login: false,
    });
    if (prep.stdout.includes("not-empty")) return `--repo ${url}: ${WORKSPACE} is not empty; not cloned`;
    const r = await runStreamed(
      agent,
      {
        // A file:// repo mounted from the host belongs to another uid, which git refuses
        // unless safe.directory says so in the global config (-c does not count for that):
        // a global config for this clone only, which includes the user's own.
        argv: [
          "sh",
          "-c",
          'g=$(mktemp) && printf "[include]\\n\\tpath = %s/.gitconfig\\n[safe]\\n\\tdirectory = *\\n" "$HOME" > "$g" && ' +
            'GIT_CONFIG_GLOBAL=$g git clone --progress -- "$1" "$2"; rc=$?; rm -f "$g"; exit $rc',
          "sh",
          url,
          WORKSPACE,
        ],
        env: { ...env, GIT_TERMINAL_PROMPT: "0", GIT_SSH_COMMAND: "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new" },
        cwd: "/",
      },
      { id: "clone", progress: ctx.progress, ...budget(ctx) },
    );
    await writeLog(agent, "clone", r.output);
    if (r.timedOut) return `--repo ${url}: the clone ran out of time (--timeout) and was stopped; see ${LOG_DIR}/clone.log in the shed`;
    if (r.code !== 0) {
      const last = r.output.trim().split(/\r?\n|\r/).pop() ?? "";
      return `--repo ${url}: git clone failed with exit ${r.code}: ${last} (see ${LOG_DIR}/clone.log in the shed)`;
    }
    ctx.progress({ id: "clone", status: `cloned ${repoName(url)} into ${WORKSPACE}` });
    return undefined;
  }

  private async hooks(
    ctx: HookContext,
    hooks: HookName[],
    env: Record<string, string>,
    warn: (w: string | undefined) => void,
    budgetMs?: number,
  ): Promise<void> {
    if (stateOf(ctx.record).disabled) return;
    const file = await readProvisionFile(ctx.agent);
    if (typeof file === "string") return warn(file);
    if (!file) return;
    for (const hook of hooks) {
      const script = file.hooks[hook];
      if (!script) continue;
      if (hook === "install" && (await installDone(ctx.agent))) continue;
      const limit =
        budgetMs !== undefined
          ? { budgetMs, what: `its ${Math.round(budgetMs / 1000)} s budget` }
          : { ...budget(ctx), what: "the create's --timeout" };
      const failed = await runHook(ctx, hook, script, { ...env, ...file.env }, limit);
      warn(failed);
      if (!failed && hook === "install") {
        await runInShed(ctx.agent, { argv: ["sh", "-c", `mkdir -p ${STATE_DIR} && date > ${STATE_DIR}/install.done`], user: "root" });
        warn(await capturePath(ctx.agent));
      }
    }
  }
}

/** Runs one hook; undefined when it succeeded, else the warning. */
async function runHook(
  ctx: HookContext,
  hook: HookName,
  script: string,
  env: Record<string, string>,
  limit: { budgetMs?: number; what: string },
): Promise<string | undefined> {
  ctx.progress({ id: hook, status: `running ${script}` });
  // A path relative to /workspace, even without a slash (`install.sh` is not looked up in PATH).
  // Not executable in a fresh checkout? Make it so, or hand it to bash.
  const path = script.startsWith("/") || script.startsWith("./") || script.startsWith("../") ? script : `./${script}`;
  const command = `s=${shellQuote(path)}; [ -x "$s" ] || chmod +x "$s" 2>/dev/null; if [ -x "$s" ]; then exec "$s"; else exec bash "$s"; fi`;
  const r = await runStreamed(ctx.agent, { command, env, cwd: WORKSPACE }, { id: hook, progress: ctx.progress, budgetMs: limit.budgetMs });
  await writeLog(ctx.agent, hook, r.output);
  const where = `see ${LOG_DIR}/${hook}.log in the shed`;
  if (r.timedOut) return `${hook} hook (${script}) took longer than ${limit.what} and was stopped; ${where}`;
  if (r.code !== 0) return `${hook} hook (${script}) failed with exit ${r.code}; ${where}`;
  ctx.progress({ id: hook, status: "done" });
  return undefined;
}

/** A config mount the backend cannot mount, copied in as the user who will use it. */
async function copyMount(agent: AgentConnection, m: MountSpec): Promise<string | undefined> {
  try {
    await copyIntoShed(agent, planCopy({ source: m.source, target: m.target }), ownerFor(m.target));
    return undefined;
  } catch (err) {
    return `credentials: copying ${m.source} to ${m.target} failed: ${(err as Error).message}`;
  }
}

function stateOf(record: ShedRecord): ProvisionState {
  return record.provision as ProvisionState;
}

function budget(ctx: HookContext): { budgetMs?: number } {
  return ctx.deadline === undefined ? {} : { budgetMs: Math.max(0, ctx.deadline - Date.now()) };
}

async function writeLog(agent: AgentConnection, step: string, text: string): Promise<void> {
  await runInShed(agent, { argv: ["sh", "-c", `mkdir -p ${LOG_DIR} && cat > ${LOG_DIR}/${step}.log`], user: "root", login: false }, text).catch(
    () => undefined,
  );
}

/**
 * The provision file, read as an archive from the agent (a stat and a read there; an exec
 * of `cat` would start a process in the shed on every create and start). Absent, or not a
 * file: undefined, as before.
 */
async function readProvisionFile(agent: AgentConnection): Promise<ProvisionFile | string | undefined> {
  const path = `${WORKSPACE}/${PROVISION_FILE}`;
  const text = await readSmallFile(agent, path, MAX_PROVISION_FILE).catch(() => undefined);
  if (text === undefined) return undefined;
  if (typeof text !== "string") return `${path} is larger than ${MAX_PROVISION_FILE / 1024} KiB; not read`;
  return parseProvisionFile(text, path);
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

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
