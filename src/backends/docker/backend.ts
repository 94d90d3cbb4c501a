import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { AgentConnection } from "../../agent/protocol/api.ts";
import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import { type BuildOptions, type BuildResult, buildImage } from "../../oci/build/build.ts";
import { isLayoutRef } from "../../oci/store/index.ts";
import type {
  Backend,
  CreateOptions,
  DiskClaim,
  FoundInstance,
  Instance,
  InstanceData,
  InstanceSpec,
  InstanceStatus,
  LogsOptions,
  ProbeResult,
  SnapshotCapability,
} from "../backend.ts";
import { dockerSnapshots, LABEL_COPY, LABEL_SNAPSHOT } from "./snapshots.ts";
import { waitForAgent } from "../agent-wait.ts";
import type { BackendContext } from "../context.ts";
import { containerSpec, coversWorkspace } from "./container-spec.ts";
import { DockerEngine, EngineError } from "./engine.ts";
import { importImageFromStore } from "./image-import.ts";
import type { DockerSection } from "./section.ts";

/** What the state file keeps for a Docker shed. */
interface DockerData extends InstanceData {
  containerId: string;
  containerName: string;
  volume: string;
  runDir: string;
  image: string;
}

export const LABEL_MANAGED = "shed.managed";
export const LABEL_NAME = "shed.name";
export const LABEL_SERVER = "shed.server.id";

/** A shed is a container (agent as main process under the engine's init) plus a named volume. */
export class DockerBackend implements Backend {
  readonly name = "docker" as const;
  readonly features = {
    localDir: true,
    fileMounts: true,
    snapshots: true,
    suspend: false,
    vsock: false,
    shutdownHook: true,
    vm: false,
    // The engine keeps a time for every line of output.
    logSince: true,
  };
  readonly engine: DockerEngine;
  readonly snapshots: SnapshotCapability;
  /** docker.pids_limit: set on every new container, kept in its spec. */
  readonly specDefaults: Partial<InstanceSpec>;

  constructor(
    private readonly ctx: BackendContext,
    private readonly section: DockerSection,
    private readonly opts: { agentTimeoutMs?: number } = {},
  ) {
    this.engine = new DockerEngine(section.socket);
    this.specDefaults = { pidsLimit: section.pids_limit };
    this.snapshots = dockerSnapshots({
      engine: this.engine,
      serverId: ctx.serverId,
      namePrefix: section.name_prefix,
      labels: (name) => this.labels(name),
      makeInstance: (spec, image, progress) => this.makeInstance(spec, Promise.resolve(image), progress, { volumeNoCopy: true }),
      startReady: (data, progress, opts) => this.startReady(data as DockerData, progress, opts),
      dial: (data) => this.ctx.dialAgent(join((data as DockerData).runDir, "agent.sock")),
      delete: (instance) => this.delete(instance),
    });
  }

  probe(): Promise<ProbeResult> {
    return probeDocker(this.engine);
  }

  private labels(name: string): Record<string, string> {
    return {
      ...this.section.labels,
      [LABEL_MANAGED]: "1",
      [LABEL_NAME]: name,
      [LABEL_SERVER]: this.ctx.serverId,
    };
  }

  private names(name: string) {
    return {
      containerName: `${this.section.name_prefix}${name}`,
      volume: `${this.section.name_prefix}${name}-workspace`,
      runDir: join(this.ctx.stateDir, "run", name),
    };
  }

  async create(spec: InstanceSpec, progress: Progress, opts: CreateOptions = {}): Promise<InstanceData> {
    progress({ id: "image", status: `resolving ${spec.image}` });
    const ref = this.ctx.images.expand(spec.image);
    // An image the engine has (the usual case) is named as it is: the container's create is the
    // check, one engine request fewer; only one it lacks is looked up (and loaded) from the store.
    const made = isLayoutRef(ref)
      ? await this.makeInstance(spec, this.storeImage(ref, progress), progress)
      : await this.makeInstance(spec, Promise.resolve(ref), progress, {}, () => this.storeImage(ref, progress));
    try {
      await this.startReady(made, progress, opts);
      return made;
    } catch (err) {
      await this.delete({ name: spec.name, spec, data: made }).catch(() => {});
      throw err;
    }
  }

  /**
   * Volume, run dir and container (not started). Cleans up its own pieces when it fails.
   * `fallback`: the image to create from when the engine has no image `imageRef`.
   */
  private async makeInstance(
    spec: InstanceSpec,
    imageRef: Promise<string>,
    progress: Progress,
    opts: { volumeNoCopy?: boolean } = {},
    fallback?: () => Promise<string>,
  ): Promise<DockerData> {
    const { containerName, volume, runDir } = this.names(spec.name);
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    const labels = this.labels(spec.name);
    try {
      progress({ id: "volume", status: "creating" });
      const binds = spec.mounts.map((m) => `${m.source}:${m.target}${m.readonly ? ":ro" : ""}`);
      // The engine makes the volume with the container (a labelled mount); behind a --local-dir it
      // is made here, empty, so the shed still has one (a snapshot copies it).
      const volumeMade = coversWorkspace(binds) ? this.engine.createVolume(volume, labels) : Promise.resolve();
      // Settled, not raced: a failed image must not leave a volume still being made behind the cleanup.
      const [named, bundle] = await settledAll([imageRef, this.ctx.agentBundle(), volumeMade] as const);
      let image = named;
      progress({ id: "container", status: "creating" });
      const body = (image: string) => containerSpec({ spec, image, labels, bundleDir: bundle.dir, loader: bundle.loader, runDir, volume, binds, ...opts });
      let containerId: string;
      try {
        containerId = await this.engine.createContainer(containerName, body(image));
      } catch (err) {
        if (!fallback || !(err instanceof EngineError && err.httpStatus === 404 && /no such image/i.test(err.message))) throw err;
        image = await fallback();
        containerId = await this.engine.createContainer(containerName, body(image));
      }
      return { containerId, containerName, volume, runDir, image };
    } catch (err) {
      await this.engine.removeContainer(containerName).catch(() => {});
      await this.engine.removeVolume(volume).catch(() => {});
      rmSync(runDir, { recursive: true, force: true });
      if (err instanceof ShedError && /Conflict|already in use/i.test(err.message)) {
        throw new ShedError(
          "SHED_EXISTS",
          `a container named ${containerName} already exists in the Docker engine but not in shed's state; remove it (docker rm -f ${containerName}) or pick another name`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /**
   * An image the engine lacks (an image it has, a local `docker build` say, is named as it is),
   * from the server's image source (pulled per docker.pull_policy, `oci:` layouts copied in),
   * loaded into the engine. Returns the engine's image id.
   */
  private async storeImage(ref: string, progress: Progress): Promise<string> {
    const { images } = this.ctx;
    const stored = await images.resolve(ref, progress);
    const imported = await importImageFromStore(this.engine, images.store, stored.ref ?? stored.manifestDigest, progress);
    return imported.imageId;
  }

  /** A Dockerfile build by the engine's builder, into the server's image store: what `shed image build DIR` runs. */
  buildImage(context: ReadableStream<Uint8Array>, opts: BuildOptions): Promise<BuildResult> {
    return buildImage(this.engine, this.ctx.images.store, context, { logger: this.ctx.logger, ...opts });
  }

  /**
   * Starts the container and waits for its agent at the same time: the engine answers the
   * start only after its own bookkeeping, by when the agent is often listening already, so
   * the wait (its socket watched from before the start) adds little after the start returns.
   * Progress marks the start's return, then readiness once both are done (what --timings reads).
   */
  private async startReady(data: DockerData, progress: Progress, opts: CreateOptions): Promise<void> {
    progress({ id: "container", status: "starting" });
    let start: "starting" | "started" | Error = "starting";
    const started = this.engine.startContainer(data.containerId).then(
      () => {
        start = "started";
        progress({ id: "agent", status: "waiting for agent" });
      },
      (err: Error) => {
        start = err;
        throw err;
      },
    );
    const ready = this.waitReady(data, opts, () => start);
    // The start's own error comes first (it names the cause); after a good start, the wait's.
    await Promise.all([started, ready.catch((err) => started.then(() => Promise.reject(err)))]);
    progress({ id: "agent", status: "ready" });
  }

  /** `start`: where the container's start is, for a wait run beside it (absent: it has returned). */
  private async waitReady(data: DockerData, opts: CreateOptions, start: () => "starting" | "started" | Error = () => "started"): Promise<void> {
    await waitForAgent({
      dial: () => this.ctx.dialAgent(join(data.runDir, "agent.sock")),
      // The agent listens on agent.sock in the run dir the container shares: its appearance is the signal.
      announce: join(data.runDir, "agent.sock"),
      timeoutMs: opts.readyTimeoutMs ?? this.opts.agentTimeoutMs ?? 60_000,
      keep: opts.onAgent,
      alive: async () => {
        const now = start();
        // Still starting is not dead (the engine is at it); a failed start ends the wait.
        if (now === "starting") return undefined;
        if (now instanceof Error) return `the engine could not start it: ${now.message}`;
        const c = await this.engine.inspectContainer(data.containerId);
        // With a restart policy a dying agent shows as restarting, or running again with a count.
        if (c?.State.Running && !c.State.Restarting && !c.RestartCount) return undefined;
        const logs = await this.engine.containerLogs(data.containerId).catch(() => "");
        return `the container exited (code ${c?.State.ExitCode ?? "?"})${logs ? `: ${logs.trim().slice(-500)}` : ""}`;
      },
    });
  }

  async start(instance: Instance, progress: Progress): Promise<InstanceData> {
    const data = instance.data as DockerData;
    const c = await this.engine.inspectContainer(data.containerId);
    if (!c) {
      throw new ShedError(
        "SHED_UNHEALTHY",
        `the container of shed "${instance.name}" is gone from the Docker engine; reset or delete the shed`,
      );
    }
    mkdirSync(data.runDir, { recursive: true, mode: 0o700 });
    if (!c.State.Running) {
      await this.startReady(data, progress, {});
    } else {
      progress({ id: "agent", status: "waiting for agent" });
      await this.waitReady(data, {});
      progress({ id: "agent", status: "ready" });
    }
    return data;
  }

  async stop(instance: Instance, timeoutMs: number): Promise<void> {
    const data = instance.data as DockerData;
    await this.engine.stopContainer(data.containerId, timeoutMs / 1000);
  }

  async reset(instance: Instance, progress: Progress): Promise<InstanceData> {
    await this.delete(instance);
    const data = instance.data as DockerData;
    return this.makeInstance(instance.spec, Promise.resolve(data.image ?? instance.spec.image), progress);
  }

  /** Without data (a state file that could not be read), what carries this server's labels for the name goes too. */
  async delete(instance: Instance): Promise<void> {
    const data = instance.data as Partial<DockerData>;
    const names = this.names(instance.name);
    if (!data.containerId) {
      const labelled = await this.engine.listContainers({ [LABEL_SERVER]: this.ctx.serverId, [LABEL_NAME]: instance.name });
      for (const c of labelled) await this.engine.removeContainer(c.Id);
    }
    await this.engine.removeContainer(data.containerId ?? names.containerName);
    await this.engine.removeVolume(data.volume ?? names.volume);
    rmSync(data.runDir ?? names.runDir, { recursive: true, force: true });
  }

  async status(instance: Instance): Promise<InstanceStatus> {
    const c = await this.engine.inspectContainer((instance.data as DockerData).containerId);
    if (!c) return "missing";
    return c.State.Running ? "running" : "stopped";
  }

  dialAgent(instance: Instance): Promise<AgentConnection> {
    return this.ctx.dialAgent(join((instance.data as DockerData).runDir, "agent.sock"));
  }

  async logs(instance: Instance, opts: LogsOptions = {}): Promise<string> {
    const text = await this.engine.containerLogs((instance.data as DockerData).containerId, 1000, opts.since);
    return text.slice(-(opts.tailBytes ?? 256 * 1024));
  }

  followLogs(instance: Instance, opts: { lines?: number } = {}): Promise<ReadableStream<Uint8Array>> {
    return this.engine.followContainerLogs((instance.data as DockerData).containerId, opts.lines ?? 0);
  }

  /** Run dirs under the state dir; containers, volumes and snapshot images as the engine counts them. */
  async diskUsage(): Promise<DiskClaim[]> {
    const mine = (labels: Record<string, string> | null) => labels?.[LABEL_SERVER] === this.ctx.serverId;
    const df = await this.engine.call<{
      Containers?: { Labels: Record<string, string> | null; SizeRw?: number }[];
      Volumes?: { Name: string; Labels: Record<string, string> | null; UsageData?: { Size: number } }[];
      Images?: { Labels: Record<string, string> | null; Size: number; SharedSize: number }[];
    }>("GET", "/system/df", { timeoutMs: 120_000 });
    const claims: DiskClaim[] = [];
    for (const c of df.Containers ?? []) {
      if (!mine(c.Labels) || c.Labels?.[LABEL_COPY]) continue;
      const name = c.Labels![LABEL_NAME] ?? "";
      claims.push({ category: "sheds", name, bytes: c.SizeRw ?? 0 }, { category: "sheds", name, path: this.names(name).runDir });
    }
    for (const vol of df.Volumes ?? []) {
      if (!mine(vol.Labels)) continue;
      const snap = vol.Labels![LABEL_SNAPSHOT];
      claims.push({ category: snap ? "snapshots" : "sheds", name: snap ?? vol.Labels![LABEL_NAME] ?? vol.Name, bytes: Math.max(0, vol.UsageData?.Size ?? 0) });
    }
    for (const img of df.Images ?? []) {
      const snap = img.Labels?.[LABEL_SNAPSHOT];
      // Its own layer: what it shares with the image the shed came from is that image's.
      if (mine(img.Labels) && snap) claims.push({ category: "snapshots", name: snap, bytes: Math.max(0, img.Size - Math.max(0, img.SharedSize)) });
    }
    return claims;
  }

  async list(): Promise<FoundInstance[]> {
    const containers = (await this.engine.listContainers({ [LABEL_SERVER]: this.ctx.serverId })).filter((c) => !c.Labels[LABEL_COPY]);
    return containers.map((c) => ({
      name: c.Labels[LABEL_NAME] ?? "",
      status: c.State === "running" ? ("running" as const) : ("stopped" as const),
      data: { containerId: c.Id },
    }));
  }
}

/** Whether the engine answers; when not, what to install or start. */
export async function probeDocker(engine: DockerEngine): Promise<ProbeResult> {
  try {
    await engine.ping();
    return { ok: true };
  } catch (err) {
    if (!existsSync(engine.socketPath)) {
      return {
        ok: false,
        reason: `no Docker engine socket at ${engine.socketPath}: install Docker (apt-get install docker.io) and start it (systemctl start docker), or set docker.socket in server.yaml`,
      };
    }
    return { ok: false, reason: `${(err as Error).message} (start it: systemctl start docker, or dockerd)` };
  }
}

/** Promise.all that waits for every promise to settle before it rejects with the first failure. */
async function settledAll<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
