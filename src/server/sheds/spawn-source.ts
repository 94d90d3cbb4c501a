import { ShedError } from "../../api/errors.ts";
import type { BackendName, CreateShedRequest } from "../../api/schemas/shed.ts";
import type { Backend, InstanceSpec, SnapshotCapability, SnapshotHandle } from "../../backends/backend.ts";
import type { ServerConfig } from "../config/schema.ts";
import type { SnapshotRecord } from "../snapshots/store.ts";
import { resolveSpec } from "./spec.ts";

/** What `create --from-snapshot` spawns from: the snapshot, its backend's capability, the spec, the warnings. */
export interface SpawnSource {
  record: SnapshotRecord;
  handle: SnapshotHandle;
  capability: SnapshotCapability;
  spec: InstanceSpec;
  warnings: string[];
}

/**
 * Seed 003's constraints on a spawn, checked before anything is made: not with an image or
 * a repo (the snapshot's rootfs is the source of truth), only on the snapshot's backend, a
 * backend that has snapshots. The spec starts from the source's (CPUs, memory, environment,
 * disk size) with the request's over it; `--local-dir` and config mounts still apply.
 */
export function spawnSource(
  config: ServerConfig,
  req: CreateShedRequest,
  snap: { record: SnapshotRecord; dir: string },
  backendOf: (name: BackendName) => Backend,
): SpawnSource {
  const { record } = snap;
  const name = record.name;
  if (req.image !== undefined || req.repo !== undefined) {
    throw new ShedError(
      "INVALID_REQUEST",
      `fromSnapshot cannot go with ${req.image !== undefined ? "image" : "repo"}: the snapshot "${name}" is the shed's rootfs (--local-dir and config mounts still apply)`,
    );
  }
  if (req.backend !== undefined && req.backend !== record.backend) {
    throw new ShedError(
      "INVALID_REQUEST",
      `snapshot "${name}" was taken on the ${record.backend} backend and can only spawn ${record.backend} sheds, not ${req.backend} ones; leave out --backend ${req.backend}`,
    );
  }
  if (req.upperSize !== undefined) {
    throw new ShedError("INVALID_REQUEST", `a shed spawned from snapshot "${name}" gets the snapshot's disk as it is; --upper-size does not apply`);
  }
  const backend = backendOf(record.backend);
  if (!backend.features.snapshots || !backend.snapshots) {
    throw new ShedError("UNSUPPORTED", `the ${backend.name} backend has no snapshots, so it cannot spawn from snapshot "${name}"`);
  }
  const base = resolveSpec(config, record.backend, backend, {
    ...req,
    image: record.spawnImage,
    cpus: req.cpus ?? record.spec.cpus,
    memoryMb: req.memoryMb ?? record.spec.memoryMb,
    env: { ...record.spec.env, ...req.env },
  });
  const spec: InstanceSpec = {
    ...base,
    image: record.spawnImage,
    ...(record.spec.upperSizeBytes !== undefined ? { upperSizeBytes: record.spec.upperSizeBytes } : {}),
  };
  const warnings = record.localDir
    ? [`snapshot "${name}" was taken of a shed that mounted a host directory at /workspace (--local-dir): the workspace's contents are not in the snapshot`]
    : [];
  return { record, handle: { name, dir: snap.dir, data: record.data }, capability: backend.snapshots, spec, warnings };
}
