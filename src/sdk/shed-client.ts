import type * as v from "valibot";
import type { AgentConnection, ExecProcess, ExecRequest } from "../agent/protocol/api.ts";
import { openShedAgent } from "../api/agent-client.ts";
import { ApiClient, DEFAULT_TIMEOUT_MS, type ServerEndpoint } from "../api/client.ts";
import { IMAGE_API } from "../api/endpoints/images.ts";
import { SERVER_API } from "../api/endpoints/server.ts";
import { SHED_API } from "../api/endpoints/sheds.ts";
import { SNAPSHOT_API } from "../api/endpoints/snapshots.ts";
import { ShedError } from "../api/errors.ts";
import type { ImageSummary, PullImageRequestSchema } from "../api/schemas/image.ts";
import type { ServerInfo } from "../api/schemas/info.ts";
import type { TmuxSession } from "../api/schemas/session.ts";
import type { CreateShedRequest, Progress, Shed } from "../api/schemas/shed.ts";
import type { CreateSnapshotRequest, Snapshot } from "../api/schemas/snapshot.ts";
import { copyIn, copyOut } from "../transfer/copy.ts";
import { collectExec, type ExecOptions, type ExecResult } from "./exec.ts";
import { type DirEntry, type FileOptions, listDir, type ReadFileResult, readFile, writeFile } from "./files.ts";

export interface ShedClientOptions {
  /** The server's address: `http://127.0.0.1:8080` (default). */
  url?: string;
  /** auth.mode token: the server's API token. */
  token?: string;
  /** How long a call waits for its answer to start (default 10 s; 0: no limit). Long operations stream progress and are not cut by it. */
  timeoutMs?: number;
  /** A name for the server in error messages (default: its host:port). */
  name?: string;
}

export interface OperationOptions {
  /** Progress events of a long operation (image pull, boot, provisioning, ...). */
  onProgress?: Progress;
  signal?: AbortSignal;
}

/**
 * The typed client of a shed-server: the same catalog calls and error codes as the CLI
 * (every failure is a ShedError with a stable `code`), plus exec, files and copies through
 * each shed's agent. One agent connection per shed is kept and shared by concurrent calls
 * (its streams are multiplexed); close() ends them.
 */
export class ShedClient {
  readonly api: ApiClient;
  private readonly agents = new Map<string, Promise<AgentConnection>>();

  constructor(options: ShedClientOptions | ApiClient = {}) {
    if (options instanceof ApiClient) {
      this.api = options;
      return;
    }
    const url = new URL(options.url ?? "http://127.0.0.1:8080");
    if (url.protocol !== "http:") throw new ShedError("INVALID_REQUEST", `a shed-server URL is http://HOST:PORT, got ${options.url}`);
    const endpoint: ServerEndpoint = {
      name: options.name ?? url.host,
      host: url.hostname.replace(/^\[|\]$/g, ""),
      httpPort: Number(url.port || 80),
      sshPort: 2222,
      ...(options.token ? { token: options.token } : {}),
    };
    this.api = new ApiClient(endpoint, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }

  serverInfo(): Promise<ServerInfo> {
    return this.api.call(SERVER_API.getInfo);
  }

  async list(): Promise<Shed[]> {
    return (await this.api.call(SHED_API.listSheds)).sheds;
  }

  get(name: string): Promise<Shed> {
    return this.api.call(SHED_API.getShed, { params: { name } });
  }

  /** Creates a shed; resolves when its agent answers and provisioning ran (its warnings are in `warnings`). */
  create(request: CreateShedRequest, opts: OperationOptions = {}): Promise<Shed> {
    return this.api.call(SHED_API.createShed, { body: request, ...opts });
  }

  start(name: string, opts: OperationOptions = {}): Promise<Shed> {
    this.forget(name);
    return this.api.call(SHED_API.startShed, { params: { name }, ...opts });
  }

  stop(name: string, opts: { timeoutSeconds?: number; signal?: AbortSignal } = {}): Promise<Shed> {
    this.forget(name);
    const body = opts.timeoutSeconds === undefined ? {} : { timeoutSeconds: opts.timeoutSeconds };
    return this.api.call(SHED_API.stopShed, { params: { name }, body, ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  /** Deletes a shed (a running one only with `force`). */
  async delete(name: string, opts: OperationOptions & { force?: boolean } = {}): Promise<void> {
    this.forget(name);
    const { force, ...rest } = opts;
    await this.api.call(SHED_API.deleteShed, { params: { name }, query: force ? { force: "true" } : {}, ...rest });
  }

  reset(name: string, opts: OperationOptions = {}): Promise<Shed> {
    this.forget(name);
    return this.api.call(SHED_API.resetShed, { params: { name }, ...opts });
  }

  /** What the shed's console or container printed: the last `tailBytes` (default 256 KiB). */
  async logs(name: string, opts: { tailBytes?: number } = {}): Promise<string> {
    const query = opts.tailBytes === undefined ? {} : { tail: String(opts.tailBytes) };
    return (await this.api.call(SHED_API.getShedLogs, { params: { name }, query })).text;
  }

  async sessions(name: string): Promise<TmuxSession[]> {
    return (await this.api.call(SHED_API.listSessions, { params: { name } })).sessions;
  }

  async killSession(name: string, session: string): Promise<void> {
    await this.api.call(SHED_API.killSession, { params: { name, session } });
  }

  async images(): Promise<ImageSummary[]> {
    return (await this.api.call(IMAGE_API.listImages)).images;
  }

  pullImage(request: v.InferInput<typeof PullImageRequestSchema>, opts: OperationOptions = {}) {
    return this.api.call(IMAGE_API.pullImage, { body: request, ...opts });
  }

  async snapshots(): Promise<Snapshot[]> {
    return (await this.api.call(SNAPSHOT_API.listSnapshots)).snapshots;
  }

  snapshot(name: string): Promise<Snapshot> {
    return this.api.call(SNAPSHOT_API.getSnapshot, { params: { name } });
  }

  /** Snapshots a stopped shed; `create({ name, fromSnapshot })` spawns sheds from it. Its `warnings` say what it does not hold. */
  createSnapshot(request: CreateSnapshotRequest, opts: OperationOptions = {}): Promise<Snapshot & { warnings?: string[] }> {
    return this.api.call(SNAPSHOT_API.createSnapshot, { body: request, ...opts });
  }

  /** Deletes a snapshot (sheds spawned from it keep their own copy). */
  async deleteSnapshot(name: string): Promise<void> {
    await this.api.call(SNAPSHOT_API.deleteSnapshot, { params: { name } });
  }

  /**
   * Runs a command and collects its exit code and output (each stream capped at
   * `maxOutputBytes`, the cut said in `truncated`). Exactly one of `argv` (run as is) and
   * `command` (a login shell line). Aborting `signal` kills it in the shed.
   */
  async exec(name: string, options: ExecOptions): Promise<ExecResult> {
    const { stdin, timeoutSeconds, maxOutputBytes, signal, onOutput, ...req } = options;
    const proc = await this.spawn(name, req);
    return collectExec(proc, { stdin, timeoutSeconds, maxOutputBytes, signal, onOutput });
  }

  /** Starts a command and hands over its streams (stdin, stdout, stderr, signal, exit) as they are. */
  spawn(name: string, request: ExecRequest): Promise<ExecProcess> {
    if ((request.argv === undefined) === (request.command === undefined)) {
      return Promise.reject(new ShedError("INVALID_REQUEST", "give exactly one of argv (a program and its arguments) and command (a shell line)"));
    }
    return this.withAgent(name, (agent) => agent.exec(request));
  }

  readFile(name: string, path: string, opts: FileOptions & { maxBytes?: number } = {}): Promise<ReadFileResult> {
    return this.withAgent(name, (agent) => readFile(agent, path, opts));
  }

  writeFile(name: string, path: string, data: string | Uint8Array, opts: FileOptions & { append?: boolean; mode?: string } = {}) {
    return this.withAgent(name, (agent) => writeFile(agent, path, data, opts));
  }

  listDir(name: string, path: string, opts: FileOptions = {}): Promise<DirEntry[]> {
    return this.withAgent(name, (agent) => listDir(agent, path, opts));
  }

  /** Copies a file or directory of this machine into the shed (as `shed cp`: into an existing directory under its own name). */
  copyIn(name: string, localPath: string, shedPath: string, opts: { keepOwners?: boolean } = {}): Promise<void> {
    return this.withAgent(name, (agent) => copyIn(agent, localPath, shedPath, Boolean(opts.keepOwners)));
  }

  /** Copies a file or directory of the shed to this machine. */
  copyOut(name: string, shedPath: string, localPath: string, opts: { keepOwners?: boolean } = {}): Promise<void> {
    return this.withAgent(name, (agent) => copyOut(agent, shedPath, localPath, Boolean(opts.keepOwners)));
  }

  /** The shed's agent connection (kept and shared; a broken one is opened again once). */
  agent(name: string): Promise<AgentConnection> {
    let conn = this.agents.get(name);
    if (!conn) {
      conn = openShedAgent(this.api, name);
      this.agents.set(name, conn);
      conn.then(
        (c) => c.closed.then(() => this.agents.get(name) === conn && this.agents.delete(name)),
        () => this.agents.get(name) === conn && this.agents.delete(name),
      );
    }
    return conn;
  }

  /** Ends the kept agent connections. */
  close(): void {
    for (const name of [...this.agents.keys()]) this.forget(name);
  }

  private async withAgent<T>(name: string, fn: (agent: AgentConnection) => Promise<T>): Promise<T> {
    const agent = await this.agent(name);
    try {
      return await fn(agent);
    } catch (err) {
      // A kept connection may have died with its shed (stopped, restarted): one fresh try.
      if (!(err instanceof ShedError) || err.code !== "AGENT_UNAVAILABLE") throw err;
      this.forget(name);
      return fn(await this.agent(name));
    }
  }

  private forget(name: string): void {
    const conn = this.agents.get(name);
    this.agents.delete(name);
    conn?.then((c) => c.close()).catch(() => {});
  }
}
