import type { AgentConnection } from "../../agent/protocol/api.ts";
import { ShedError } from "../../api/errors.ts";
import type { BackendName, CreateShedRequest, Progress, Shed } from "../../api/schemas/shed.ts";
import type { Backend, CreateOptions, InstanceSpec } from "../../backends/backend.ts";
import { backendDefinition } from "../../backends/registry.ts";
import type { Logger } from "../../log/logger.ts";
import { type ServerConfig, sectionOf } from "../config/schema.ts";
import { KeyedLock } from "../state/lock.ts";
import type { ShedRecord } from "../state/shed-record.ts";
import type { ShedStore } from "../state/store.ts";
import { assertActionAllowed, canTransition } from "../state/transitions.ts";
import { AgentPool } from "./agent-pool.ts";
import type { HookContext, LifecycleHooks } from "./hooks.ts";
import { instanceOf, toApi, withShedEnv } from "./shed-view.ts";
import { resolveSpec } from "./spec.ts";
import { type SpawnSource, spawnSource } from "./spawn-source.ts";
import type { SnapshotStore } from "../snapshots/store.ts";
import { purgeUnreadable, unreadableError, unreadableShed } from "./unreadable.ts";

/** How long a create may take unless the request says (the CLI's --timeout, 10m as in the seed). */
const DEFAULT_CREATE_TIMEOUT_S = 600;

/**
 * The lifecycle of sheds: state file + backend kept in step, one operation per shed at a
 * time. Routes and the SSH door go through this; nothing else touches the store.
 */
export class ShedService {
  private readonly lock = new KeyedLock();
  private readonly agents: AgentPool;
  /** Names being created: a second create of one is SHED_EXISTS at once, not after the first. */
  private readonly creating = new Set<string>();
  /** Names whose last state write failed after the backend acted: reads ask the backend first. */
  private readonly stale = new Set<string>();

  constructor(
    private readonly config: ServerConfig,
    private readonly store: ShedStore,
    private readonly backends: Map<BackendName, Backend>,
    private readonly defaultBackend: BackendName,
    private readonly logger: Logger,
    private readonly hooks: LifecycleHooks = {},
    /** Where `create --from-snapshot` finds its snapshot (absent: a server without snapshots, a unit test). */
    private readonly snapshots?: Pick<SnapshotStore, "get" | "lock">,
  ) {
    this.agents = new AgentPool((name) => this.dial(name), logger);
  }

  /** Runs for each agent connection that becomes a shed's (the broker's sockets are set up on it). */
  onAgentConnected(fn: (name: string, conn: AgentConnection) => void): void {
    this.agents.onConnected(fn);
  }

  /** Every shed, those with an unreadable state file included (as `error`, with the reason). */
  async list(): Promise<Shed[]> {
    const { records, problems } = this.store.list();
    const sheds = await Promise.all(records.map(async (r) => toApi(await this.truth(r))));
    for (const p of problems) if (p.name) sheds.push(await unreadableShed(p.name, p.reason, this.backends, this.defaultBackend));
    return sheds.sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<Shed> {
    const found = this.store.lookup(name);
    if (found && "problem" in found) return unreadableShed(name, found.problem.reason, this.backends, this.defaultBackend);
    return toApi(await this.record(name));
  }

  async create(req: CreateShedRequest, progress: Progress): Promise<Shed> {
    if (req.fromSnapshot !== undefined) {
      const name = req.fromSnapshot;
      if (!this.snapshots) throw new ShedError("UNSUPPORTED", "this server keeps no snapshots");
      // The snapshot stays while a shed is spawned from it (a delete waits).
      return this.snapshots.lock.run(name, async () => {
        const source = spawnSource(this.config, req, this.snapshots!.get(name), (b) => this.backend(b));
        return this.createChecked(req, this.backend(source.record.backend), source.spec, progress, source);
      });
    }
    const backendName = req.backend ?? this.defaultBackend;
    const backend = this.backend(backendName);
    return this.createChecked(req, backend, resolveSpec(this.config, backendName, backend, req), progress);
  }

  private async createChecked(req: CreateShedRequest, backend: Backend, spec: InstanceSpec, progress: Progress, source?: SpawnSource): Promise<Shed> {
    const deadline = Date.now() + (req.timeoutSeconds ?? DEFAULT_CREATE_TIMEOUT_S) * 1000;
    const exists = () => new ShedError("SHED_EXISTS", `shed "${req.name}" already exists`);
    if (this.creating.has(req.name) || this.store.lookup(req.name)) throw exists();
    this.creating.add(req.name);
    try {
      return await this.lock.run(req.name, async () => {
        if (this.store.lookup(req.name)) throw exists();
        return this.createLocked(req, backend, spec, deadline, progress, source);
      });
    } finally {
      this.creating.delete(req.name);
    }
  }

  private async createLocked(
    req: CreateShedRequest,
    backend: Backend,
    spec: InstanceSpec,
    deadline: number,
    progress: Progress,
    source?: SpawnSource,
  ): Promise<Shed> {
    const now = new Date().toISOString();
    const record: ShedRecord = { name: req.name, backend: backend.name, state: "creating", createdAt: now, updatedAt: now, spec, backendData: {}, provision: {} };
    if (source) record.fromSnapshot = source.record.name;
    const prepared = [...(source?.warnings ?? []), ...((await this.hooks.prepare?.(record, req, backend)) ?? [])];
    this.store.put(record);
    try {
      const opts: CreateOptions = {
        ...(req.timeoutSeconds !== undefined ? { readyTimeoutMs: Math.max(1000, deadline - Date.now()) } : {}),
        // The connection that answered readiness serves provisioning and the first exec.
        onAgent: (conn) => this.agents.adopt(req.name, conn),
      };
      record.backendData = source
        ? await source.capability.spawn(record.spec, source.handle, progress, opts)
        : await backend.create(record.spec, progress, opts);
    } catch (err) {
      // The backend removed what it made; the record goes too, so the name is free again.
      this.agents.drop(req.name);
      this.store.remove(req.name);
      throw err;
    }
    this.transition(record, "running", { healthy: true });
    await this.runHook(record, "afterCreate", progress, prepared, deadline);
    return toApi(record);
  }

  /**
   * Runs `fn` on a stopped shed while holding its lock (a snapshot's capture): nothing starts
   * it meanwhile. Refused with SHED_NOT_STOPPED otherwise.
   */
  async whileStopped<T>(name: string, fn: (record: ShedRecord, backend: Backend) => Promise<T>): Promise<T> {
    return this.lock.run(name, async () => {
      const record = await this.record(name);
      if (record.state !== "stopped") {
        throw new ShedError("SHED_NOT_STOPPED", `shed "${name}" is ${record.state}: stop the shed first (shed stop ${name})`);
      }
      return fn(record, this.backend(record.backend));
    });
  }

  async start(name: string, progress: Progress): Promise<Shed> {
    return this.lock.run(name, async () => {
      const record = await this.record(name);
      assertActionAllowed(name, record.state, "start");
      try {
        this.intend(record, "start");
        record.backendData = await this.backend(record.backend).start(instanceOf(record), progress);
      } catch (err) {
        this.transition(record, "error", { error: (err as Error).message });
        throw err;
      }
      this.transition(record, "running", { healthy: true, error: undefined });
      await this.runHook(record, "afterStart", progress);
      return toApi(record);
    });
  }

  async stop(name: string, timeoutSeconds?: number): Promise<Shed> {
    return this.lock.run(name, async () => {
      const record = await this.record(name);
      assertActionAllowed(name, record.state, "stop");
      const timeout = timeoutSeconds ?? this.section(record.backend).stop_timeout;
      const warnings = record.state === "running" ? await this.runShutdownHook(record, timeout * 1000, () => {}) : [];
      this.agents.drop(name);
      this.intend(record, "stop");
      await this.backend(record.backend).stop(instanceOf(record), timeout * 1000);
      return toApi(this.transition(record, "stopped", { healthy: undefined, warnings: warnings.length ? warnings : undefined }));
    });
  }

  async reset(name: string, progress: Progress): Promise<Shed> {
    return this.lock.run(name, async () => {
      const record = await this.record(name);
      assertActionAllowed(name, record.state, "reset");
      try {
        this.intend(record, "reset");
        record.backendData = await this.backend(record.backend).reset(instanceOf(record), progress);
      } catch (err) {
        this.transition(record, "error", { error: `reset failed: ${(err as Error).message}` });
        throw err;
      }
      return toApi(this.transition(record, "stopped", { error: undefined }));
    });
  }

  async delete(name: string, force: boolean, progress: Progress): Promise<void> {
    await this.lock.run(name, async () => {
      const found = this.store.lookup(name);
      if (found && "problem" in found) {
        if (!force) throw unreadableError(name, found.problem.reason);
        return purgeUnreadable(name, this.backends, this.store, progress).then(() => {
          this.agents.drop(name);
          this.stale.delete(name);
        });
      }
      const record = await this.record(name);
      assertActionAllowed(name, record.state, "delete", force);
      const backend = this.backend(record.backend);
      const stopTimeoutMs = this.section(record.backend).stop_timeout * 1000;
      if (record.state === "running") await this.runShutdownHook(record, stopTimeoutMs, progress);
      this.agents.drop(name);
      this.transition(record, "deleting");
      try {
        if (record.state !== "stopped") {
          progress({ id: "shed", status: "stopping" });
          await backend.stop(instanceOf(record), stopTimeoutMs, { discard: true });
        }
        progress({ id: "shed", status: "removing" });
        await backend.delete(instanceOf(record));
      } catch (err) {
        this.transition(record, "error", { error: `delete failed: ${(err as Error).message}` });
        throw err;
      }
      this.store.remove(name);
      progress({ id: "shed", status: "deleted" });
    });
  }

  /** What the shed's container or VM printed (the VM's console), newest last. */
  async logs(name: string, opts: { tailBytes?: number; since?: Date } = {}): Promise<string> {
    const record = await this.record(name);
    const backend = this.backend(record.backend);
    if (!backend.logs) throw new ShedError("UNSUPPORTED", `the ${record.backend} backend keeps no logs`);
    if (opts.since && !backend.features.logSince) {
      throw new ShedError(
        "UNSUPPORTED",
        `the logs of a ${record.backend} shed (its VM console) carry no times, so --since cannot pick lines from them; use --tail`,
      );
    }
    return backend.logs(instanceOf(record), opts);
  }

  /** The shed's last `lines` lines, then what it prints, until the stream is cancelled. */
  async followLogs(name: string, lines?: number): Promise<ReadableStream<Uint8Array>> {
    const record = await this.record(name);
    const backend = this.backend(record.backend);
    if (!backend.followLogs) throw new ShedError("UNSUPPORTED", `the ${record.backend} backend cannot follow its logs`);
    return backend.followLogs(instanceOf(record), { lines });
  }

  /**
   * A shared connection to a running shed's agent, for the clients (exec socket, SSH door,
   * sessions): its execs get the shed's own environment (create -e) under their own, as
   * `docker exec` gets what `docker run -e` set.
   */
  async agent(name: string): Promise<AgentConnection> {
    const record = await this.record(name);
    assertActionAllowed(name, record.state, "exec");
    return withShedEnv(await this.agents.get(name), record.spec.env);
  }

  /**
   * After a server restart: match state files with what the backends still run. Running
   * instances stay running (re-adopted), vanished ones are marked, interrupted operations
   * become errors a person can see and clean up.
   */
  async adopt(): Promise<void> {
    const { records, problems } = this.store.list();
    for (const p of problems) this.logger.warn("state file skipped", { file: p.file, reason: p.reason });
    const found = new Map<string, "running" | "stopped">();
    for (const [name, backend] of this.backends) {
      if (!(await backend.probe()).ok) continue;
      try {
        for (const f of await backend.list()) found.set(`${name}/${f.name}`, f.status === "running" ? "running" : "stopped");
      } catch (err) {
        this.logger.warn("could not list instances", { backend: name, error: String(err) });
      }
    }
    for (const record of records) {
      if (!this.backends.has(record.backend)) continue;
      const interrupted = record.pending;
      if ((interrupted === "stop" || interrupted === "start") && found.has(`${record.backend}/${record.name}`)) {
        // The engine may still be at what the dead server asked for: a stop is finished, a
        // start undone (stopped), so what is listed is what the engine ends up with.
        await this.backend(record.backend).stop(instanceOf(record), this.section(record.backend).stop_timeout * 1000).catch(() => {});
        found.set(`${record.backend}/${record.name}`, "stopped");
        if (interrupted === "start") record.error = "the server stopped while starting it; start it again";
      }
      const status = found.get(`${record.backend}/${record.name}`);
      if (record.state === "creating" || record.state === "deleting") {
        this.transition(record, "error", { error: `the server stopped while the shed was ${record.state}` });
      } else if (status === undefined) {
        if (record.state !== "error" && (await this.backend(record.backend).probe()).ok) {
          this.transition(record, "error", { error: "its container or VM is gone" });
        }
      } else if (status !== record.state && record.state !== "error") {
        this.transition(record, status);
      } else if (record.state === "error" && status === "running") {
        this.transition(record, "running", { error: undefined });
      }
      if (record.state === "running") this.logger.info("re-adopted shed", { name: record.name });
    }
  }

  async close(): Promise<void> {
    this.agents.closeAll();
  }

  /**
   * A record as it really is: after a state write failed once the backend had acted (a full
   * disk), the file may lie, so the backend is asked and the answer written again.
   */
  private async truth(record: ShedRecord): Promise<ShedRecord> {
    if (!this.stale.has(record.name)) return record;
    const status = await this.backend(record.backend).status(instanceOf(record)).catch(() => undefined);
    const state = status === "missing" ? "error" : status;
    if (state && state !== record.state) {
      Object.assign(record, { state, updatedAt: new Date().toISOString() }, status === "missing" ? { error: "its container or VM is gone" } : {});
    }
    try {
      this.store.put(record);
      this.stale.delete(record.name);
    } catch {
      // Still cannot write: the next read asks again.
    }
    return record;
  }

  private async dial(name: string): Promise<AgentConnection> {
    const record = await this.record(name);
    try {
      const conn = await this.backend(record.backend).dialAgent(instanceOf(record));
      if (record.healthy === false) this.transition(record, record.state, { healthy: true });
      return conn;
    } catch (err) {
      this.transition(record, record.state, { healthy: false });
      throw new ShedError(
        "AGENT_UNAVAILABLE",
        `the agent in shed "${name}" is not answering (${(err as Error).message}); try \`shed stop ${name}\` then \`shed start ${name}\``,
        { cause: err },
      );
    }
  }

  /** Runs a provisioning hook; its warnings go on the record, its failures never fail the operation. */
  private async runHook(
    record: ShedRecord,
    hook: "afterCreate" | "afterStart",
    progress: Progress,
    earlier: string[] = [],
    deadline?: number,
  ): Promise<void> {
    const fn = this.hooks[hook];
    const later = fn ? await this.withHookContext(record, progress, (ctx) => fn.call(this.hooks, { ...ctx, deadline })) : [];
    const warnings = [...earlier, ...later];
    // No warnings now and none kept: the file already says so, and a create spares a write (two fsyncs).
    if (!warnings.length && !record.warnings) return;
    this.transition(record, record.state, { warnings: warnings.length ? warnings : undefined });
  }

  /** The shutdown hook's warnings (the provisioner has logged them). */
  private async runShutdownHook(record: ShedRecord, stopTimeoutMs: number, progress: Progress): Promise<string[]> {
    const fn = this.hooks.beforeStop;
    if (!fn) return [];
    const budgetMs = Math.min(stopTimeoutMs / 2, 30_000);
    return this.withHookContext(record, progress, (ctx) => fn.call(this.hooks, { ...ctx, budgetMs }));
  }

  private async withHookContext(
    record: ShedRecord,
    progress: Progress,
    fn: (ctx: HookContext) => Promise<string[]>,
  ): Promise<string[]> {
    try {
      const agent = await this.agents.get(record.name);
      return await fn({ record, agent, backend: this.backend(record.backend), progress });
    } catch (err) {
      return [`provisioning: ${(err as Error).message}`];
    }
  }

  private async record(name: string): Promise<ShedRecord> {
    const found = this.store.lookup(name);
    if (!found) throw new ShedError("SHED_NOT_FOUND", `shed "${name}" not found`);
    if ("problem" in found) throw unreadableError(name, found.problem.reason);
    return this.truth(found.record);
  }

  private backend(name: BackendName): Backend {
    const backend = this.backends.get(name);
    if (!backend && !backendDefinition(name)) {
      throw new ShedError("INVALID_REQUEST", `there is no backend "${name}" (this server has: ${[...this.backends.keys()].join(", ")})`);
    }
    if (!backend) {
      throw new ShedError(
        "UNSUPPORTED",
        `backend "${name}" is not enabled on this server (enabled: ${[...this.backends.keys()].join(", ") || "none"})`,
      );
    }
    return backend;
  }

  private section(name: BackendName) {
    return sectionOf(this.config, name);
  }

  /**
   * Written before the backend acts: if the server dies mid-way, the next start knows what
   * was under way (a stop is finished then, the engine may still be at it).
   */
  private intend(record: ShedRecord, op: NonNullable<ShedRecord["pending"]>): void {
    record.pending = op;
    try {
      this.save(record);
    } catch {
      // Best effort (a full disk): the operation still runs, and the shed is read from the backend until a write works.
    }
  }

  private transition(record: ShedRecord, to: ShedRecord["state"], patch: Partial<ShedRecord> = {}): ShedRecord {
    if (!canTransition(record.state, to)) {
      throw new ShedError("SHED_BUSY", `shed "${record.name}" cannot go from ${record.state} to ${to}`);
    }
    delete record.pending;
    Object.assign(record, patch, { state: to, updatedAt: new Date().toISOString() });
    for (const key of Object.keys(patch) as (keyof ShedRecord)[]) {
      if (patch[key] === undefined) delete record[key];
    }
    this.save(record);
    return record;
  }

  /** A failed write marks the shed stale: until a write succeeds, reads ask the backend. */
  private save(record: ShedRecord): void {
    try {
      this.store.put(record);
      this.stale.delete(record.name);
    } catch (err) {
      this.stale.add(record.name);
      throw err;
    }
  }
}
