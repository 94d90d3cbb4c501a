import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { AgentConnection } from "../../../src/agent/protocol/api.ts";
import { ShedError } from "../../../src/api/errors.ts";
import type { Progress } from "../../../src/api/schemas/shed.ts";
import { waitForAgent } from "../../../src/backends/agent-wait.ts";
import type {
  Backend,
  CreateOptions,
  FoundInstance,
  Instance,
  InstanceData,
  InstanceSpec,
  InstanceStatus,
  ProbeResult,
} from "../../../src/backends/backend.ts";
import type { BackendContext } from "../../../src/backends/context.ts";
import { writeFileAtomic } from "../../../src/fs/atomic-file.ts";
import { killByPidFile, runningPid, waitGone } from "../../../src/proc/pid-file.ts";

/** What the state file keeps of a trivial shed. */
interface TrivialData extends InstanceData {
  dir: string;
  imageDigest: string;
}

/**
 * The smallest backend there is, to show the seam: a shed is a shed-agent process on this
 * host (no isolation at all: tests only) with a directory of its own, `home/`, as the state
 * that stop and start keep and reset wipes. The agent runs detached with its pid file, so it
 * outlives a server that is killed and is found again by `list`. Images come through the
 * server's image source like every backend's (only their digest is kept: nothing boots them).
 */
export class TrivialBackend implements Backend {
  readonly name = "trivial";
  readonly features = { localDir: false, fileMounts: false, snapshots: false, suspend: false, vsock: false, shutdownHook: false, vm: false };

  constructor(private readonly ctx: BackendContext) {}

  private get root(): string {
    return join(this.ctx.stateDir, "trivial", "instances");
  }

  private files(dir: string) {
    return { pid: join(dir, "agent.pid"), socket: join(dir, "agent.sock"), log: join(dir, "agent.log"), meta: join(dir, "instance.json"), home: join(dir, "home") };
  }

  async probe(): Promise<ProbeResult> {
    return { ok: true };
  }

  async create(spec: InstanceSpec, progress: Progress, opts: CreateOptions = {}): Promise<InstanceData> {
    const image = await this.ctx.images.resolve(spec.image, progress);
    const dir = join(this.root, spec.name);
    if (runningPid(this.files(dir).pid, dir)) throw new ShedError("SHED_EXISTS", `an agent for "${spec.name}" already runs from ${dir}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(this.files(dir).home, { recursive: true, mode: 0o700 });
    const data: TrivialData = { dir, imageDigest: image.manifestDigest };
    writeFileAtomic(this.files(dir).meta, `${JSON.stringify({ name: spec.name, serverId: this.ctx.serverId, data })}\n`, 0o600);
    try {
      await this.launch(data, progress, opts.readyTimeoutMs);
      return data;
    } catch (err) {
      killByPidFile(this.files(dir).pid, dir);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private async launch(data: TrivialData, progress: Progress, timeoutMs = 30_000): Promise<void> {
    const f = this.files(data.dir);
    const bundle = await this.ctx.agentBundle();
    rmSync(f.socket, { force: true });
    const log = openSync(f.log, "a");
    try {
      const proc = Bun.spawn([join(bundle.dir, "bin", "shed-agent"), "serve", "--listen", `unix:${f.socket}`], {
        cwd: f.home,
        stdio: ["ignore", log, log],
        detached: true,
      });
      proc.unref();
      writeFileAtomic(f.pid, `${proc.pid}\n`, 0o600);
    } finally {
      closeSync(log);
    }
    progress({ id: "agent", status: "waiting for agent" });
    await waitForAgent({
      dial: () => this.ctx.dialAgent(f.socket),
      timeoutMs,
      alive: async () => (runningPid(f.pid, data.dir) ? undefined : `the agent exited: ${this.tail(f.log)}`),
    });
    progress({ id: "agent", status: "ready" });
  }

  async start(instance: Instance, progress: Progress): Promise<InstanceData> {
    const data = instance.data as TrivialData;
    if (!existsSync(data.dir)) throw new ShedError("SHED_UNHEALTHY", `the directory of shed "${instance.name}" is gone; reset or delete the shed`);
    if (!runningPid(this.files(data.dir).pid, data.dir)) await this.launch(data, progress);
    return data;
  }

  async stop(instance: Instance, timeoutMs: number): Promise<void> {
    const { dir } = instance.data as TrivialData;
    const pid = this.files(dir).pid;
    killByPidFile(pid, dir, "SIGTERM");
    if (await waitGone(pid, dir, timeoutMs)) return;
    killByPidFile(pid, dir, "SIGKILL");
    await waitGone(pid, dir, 5000);
  }

  async reset(instance: Instance): Promise<InstanceData> {
    const { home } = this.files((instance.data as TrivialData).dir);
    rmSync(home, { recursive: true, force: true });
    mkdirSync(home, { recursive: true, mode: 0o700 });
    return instance.data;
  }

  async delete(instance: Instance): Promise<void> {
    const dir = (instance.data as Partial<TrivialData>).dir ?? join(this.root, instance.name);
    killByPidFile(this.files(dir).pid, dir, "SIGKILL");
    await waitGone(this.files(dir).pid, dir, 5000);
    rmSync(dir, { recursive: true, force: true });
  }

  async status(instance: Instance): Promise<InstanceStatus> {
    const { dir } = instance.data as TrivialData;
    if (!existsSync(dir)) return "missing";
    return runningPid(this.files(dir).pid, dir) ? "running" : "stopped";
  }

  dialAgent(instance: Instance): Promise<AgentConnection> {
    return this.ctx.dialAgent(this.files((instance.data as TrivialData).dir).socket);
  }

  async list(): Promise<FoundInstance[]> {
    if (!existsSync(this.root)) return [];
    const found: FoundInstance[] = [];
    for (const name of readdirSync(this.root)) {
      const dir = join(this.root, name);
      let meta: { name: string; serverId: string; data: TrivialData };
      try {
        meta = JSON.parse(readFileSync(this.files(dir).meta, "utf8"));
      } catch {
        continue;
      }
      if (meta.serverId !== this.ctx.serverId) continue;
      found.push({ name: meta.name, status: runningPid(this.files(dir).pid, dir) ? "running" : "stopped", data: meta.data });
    }
    return found;
  }

  async logs(instance: Instance, opts: { tailBytes?: number } = {}): Promise<string> {
    return this.tail(this.files((instance.data as TrivialData).dir).log, opts.tailBytes);
  }

  private tail(file: string, bytes = 2000): string {
    try {
      return readFileSync(file, "utf8").slice(-bytes);
    } catch {
      return "";
    }
  }
}
