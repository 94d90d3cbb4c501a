import type { AgentConnection } from "../agent/protocol/api.ts";
import type { BackendFeatures } from "../api/schemas/info.ts";
import type { BackendName, Progress } from "../api/schemas/shed.ts";

/** What a backend needs to know to make a shed. Resolved by the server from request + config. */
export interface InstanceSpec {
  name: string;
  image: string;
  cpus: number;
  memoryMb: number;
  env: Record<string, string>;
  /** The writable disk of a VM shed (`--upper-size`); the backend's default when absent. */
  upperSizeBytes?: number;
  /** Most processes (and threads) a container shed may have at once; a VM is bounded by itself. */
  pidsLimit?: number;
  /** Host paths to mount (config mounts, --local-dir, --add-dir). Host paths are absolute. */
  mounts?: MountSpec[];
  /** How long the boot may take until the agent answers (create's --timeout); the backend's own default otherwise. */
  readyTimeoutMs?: number;
}

export interface MountSpec {
  source: string;
  target: string;
  readonly: boolean;
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
 * One folder per backend implements this; the server never branches on backend names.
 * Every method is idempotent where it can be (stop of a stopped instance is fine).
 */
export interface Backend {
  readonly name: BackendName;
  readonly features: BackendFeatures;
  probe(): Promise<ProbeResult>;
  /** Makes storage and the instance, starts it, and returns when the agent answers health. */
  create(spec: InstanceSpec, progress: Progress): Promise<InstanceData>;
  start(instance: Instance, progress: Progress): Promise<InstanceData>;
  stop(instance: Instance, timeoutMs: number): Promise<void>;
  /** Back to the image: fresh writable state, same name and settings. Only when stopped. */
  reset(instance: Instance, progress: Progress): Promise<InstanceData>;
  /** Removes everything the instance owns. Missing pieces are not an error. */
  delete(instance: Instance): Promise<void>;
  status(instance: Instance): Promise<InstanceStatus>;
  /** A fresh connection to the instance's agent. */
  dialAgent(instance: Instance): Promise<AgentConnection>;
  /** Instances this server made that still exist (for re-adoption after a restart). */
  list(): Promise<FoundInstance[]>;
  /** What the instance printed (VM console, container output), newest last, at most ~tailBytes. */
  logs?(instance: Instance, opts?: { tailBytes?: number }): Promise<string>;
}
