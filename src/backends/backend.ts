import * as v from "valibot";
import type { AgentConnection } from "../agent/protocol/api.ts";
import type { BackendFeatures } from "../api/schemas/info.ts";
import type { BackendName, Progress } from "../api/schemas/shed.ts";
import type { BuildOptions, BuildResult } from "../oci/build/build.ts";

export const MountSpecSchema = v.object({
  /** Absolute host path (resolved through symlinks and checked against mount_roots by the server). */
  source: v.string(),
  target: v.string(),
  readonly: v.boolean(),
});
export type MountSpec = v.InferOutput<typeof MountSpecSchema>;

/**
 * What a backend needs to know to make a shed, resolved by the server from request + config
 * once at create and kept as it is in the shed's state file (reset makes the same again).
 */
export const InstanceSpecSchema = v.object({
  name: v.string(),
  image: v.string(),
  cpus: v.number(),
  memoryMb: v.number(),
  env: v.optional(v.record(v.string(), v.string()), {}),
  /** The writable disk of a VM shed (`--upper-size`); the backend's default when absent. */
  upperSizeBytes: v.optional(v.number()),
  /** Most processes (and threads) a container shed may have at once; a VM is bounded by itself. */
  pidsLimit: v.optional(v.number()),
  /** Host paths to mount (config mounts, --local-dir, --add-dir). Host paths are absolute. */
  mounts: v.optional(v.array(MountSpecSchema), []),
});
export type InstanceSpec = v.InferOutput<typeof InstanceSpecSchema>;

/** What one create asks beyond the spec (not kept). */
export interface LogsOptions {
  tailBytes?: number;
  since?: Date;
}

export interface StopOptions {
  /** The stop before a delete: the instance's disks are discarded next, so no clean power-off is needed. */
  discard?: boolean;
}

export interface CreateOptions {
  /** How long the boot may take until the agent answers (create's --timeout); the backend's own default otherwise. */
  readyTimeoutMs?: number;
  /**
   * Takes the agent connection that answered readiness, for the server's pool (a backend
   * that has none to give leaves it uncalled). Called at most once, before create returns;
   * the server closes it if the create fails after all.
   */
  onAgent?: (conn: AgentConnection) => void;
}

/**
 * Backend-owned data persisted in the shed's state file (container id, instance dir, ...).
 * Opaque to the server; the backend gets it back on every call.
 */
export type InstanceData = Record<string, unknown>;

export interface Instance {
  name: string;
  spec: InstanceSpec;
  data: InstanceData;
}

export type InstanceStatus = "running" | "stopped" | "missing";

/** An instance found by `adopt` at server start: something this server made earlier. */
export interface FoundInstance {
  name: string;
  status: InstanceStatus;
  data: InstanceData;
}

export interface ProbeResult {
  ok: boolean;
  /** Why not (or, when emulated, why so), in words a user can act on. */
  reason?: string;
  /** Works, but its VMs run emulated (slow): detection prefers any backend that is not. */
  emulated?: boolean;
}

/**
 * One folder per backend implements this (made by its definition's factory, definition.ts);
 * the server never branches on backend names. Every method is idempotent where it can be
 * (stop of a stopped instance is fine). What a backend can do is data (`features`,
 * `specDefaults`) or an optional method, so the server refuses what it cannot do up front.
 */
export interface Backend {
  readonly name: BackendName;
  readonly features: BackendFeatures;
  /** Spec fields this backend sets on every new shed unless the request does (docker: pidsLimit). */
  readonly specDefaults?: Partial<InstanceSpec>;
  probe(): Promise<ProbeResult>;
  /**
   * Makes storage and the instance, starts it, and returns when the agent answers health.
   * A failure removes everything it made (the server then drops the record).
   */
  create(spec: InstanceSpec, progress: Progress, opts?: CreateOptions): Promise<InstanceData>;
  start(instance: Instance, progress: Progress): Promise<InstanceData>;
  stop(instance: Instance, timeoutMs: number, opts?: StopOptions): Promise<void>;
  /** Back to the image: fresh writable state, same name and settings. Only when stopped. */
  reset(instance: Instance, progress: Progress): Promise<InstanceData>;
  /** Removes everything the instance owns. Missing pieces are not an error. */
  delete(instance: Instance): Promise<void>;
  status(instance: Instance): Promise<InstanceStatus>;
  /** A fresh connection to the instance's agent. */
  dialAgent(instance: Instance): Promise<AgentConnection>;
  /** Instances this server made that still exist (for re-adoption after a restart). */
  list(): Promise<FoundInstance[]>;
  /**
   * What the instance printed (VM console, container output), newest last, at most ~tailBytes;
   * `since` only where the backend's logs carry times (features.logSince).
   */
  logs?(instance: Instance, opts?: LogsOptions): Promise<string>;
  /** Its last `lines` lines, then what it prints from then on, until the stream is cancelled (`shed logs -f`). */
  followLogs?(instance: Instance, opts?: { lines?: number }): Promise<ReadableStream<Uint8Array>>;
  /** Builds an image from a Dockerfile context into the server's image store (an engine with a builder). */
  buildImage?(context: ReadableStream<Uint8Array>, opts: BuildOptions): Promise<BuildResult>;
  /**
   * Snapshots of stopped instances and sheds spawned from them (seed 003), where
   * `features.snapshots` says so: a backend without both is refused with UNSUPPORTED.
   */
  readonly snapshots?: SnapshotCapability;
  /**
   * What the backend keeps, for `system df` and `system prune --logs`: paths under the state
   * dir (the server measures them) or, for what an engine keeps elsewhere, sizes as it says.
   */
  diskUsage?(): Promise<DiskClaim[]>;
}

export interface DiskClaim {
  category: "images" | "sheds" | "logs" | "snapshots";
  /** The shed, image digest or snapshot it belongs to. */
  name: string;
  /** Under the state dir: measured by the server (everything under it belongs to this claim). */
  path?: string;
  /** Outside it (an engine's containers, volumes, images): its bytes as the engine counts them. */
  bytes?: number;
  /** A cache made from one image (manifest digest): `system prune --images` removes it when that image leaves the store. */
  image?: string;
}

/** A snapshot as the backend sees it: its name, its own directory, and what capture returned. */
export interface SnapshotHandle {
  name: string;
  /** `<snapshots_dir>/<name>/`, made by the server (empty at capture); the metadata file is the server's. */
  dir: string;
  data: InstanceData;
}

/** What a capture made. */
export interface CapturedSnapshot {
  /** What a spawned shed's spec.image is: the pinned image (a manifest digest, or the engine's committed image). */
  spawnImage: string;
  /** A manifest digest in the server's image store that must outlive the snapshot (image prune keeps it); none on Docker. */
  pinnedDigest?: string;
  /** Apparent bytes of what was captured (disk or writable layer and volume). */
  sizeBytes: number;
  /** How the snapshot's disk was copied where that applies ("reflink" or "copy"). */
  copy?: "reflink" | "copy";
  data: InstanceData;
}

/**
 * The optional snapshot part of a backend: offline (Tier 1) captures of an instance's
 * writable state over its pinned image, and new instances from them. The server holds the
 * source shed's lock and has checked it is stopped; it writes the metadata last.
 */
export interface SnapshotCapability {
  /** Captures the stopped instance into `snap.dir` (read-only files). A failure removes what it made. */
  capture(instance: Instance, snap: Omit<SnapshotHandle, "data">, progress: Progress): Promise<CapturedSnapshot>;
  /**
   * A new running instance whose writable state is a copy of the snapshot's, with its own
   * identity (machine-id, SSH host keys, hostname). A failure removes what it made.
   */
  spawn(spec: InstanceSpec, snap: SnapshotHandle, progress: Progress, opts?: CreateOptions): Promise<InstanceData>;
  /** Removes what the snapshot holds outside its directory (engine images, volumes). Missing pieces are not an error. */
  remove(snap: SnapshotHandle): Promise<void>;
  /** Whether what the snapshot sits on is still there (its pinned image, its committed image). */
  present(snap: SnapshotHandle): Promise<boolean>;
}
