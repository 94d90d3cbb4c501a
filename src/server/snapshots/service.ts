import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import type { BackendName, Progress } from "../../api/schemas/shed.ts";
import type { CreateSnapshotRequest, Snapshot } from "../../api/schemas/snapshot.ts";
import type { Backend, SnapshotCapability, SnapshotHandle } from "../../backends/backend.ts";
import type { Logger } from "../../log/logger.ts";
import type { ShedService } from "../sheds/service.ts";
import { instanceOf } from "../sheds/shed-view.ts";
import { SNAPSHOT_META, type SnapshotDirProblem, type SnapshotRecord, type SnapshotStore } from "./store.ts";

/**
 * Snapshots of stopped sheds (seed 003) through the backends' snapshot capability: the
 * source's lock is held while it is captured, the metadata is written last (a create that
 * dies leaves an orphan directory, which `system prune --orphans` reclaims), and deletion is
 * only ever explicit.
 */
export class SnapshotService {
  /** Names being created: their directories are not orphans yet. */
  private readonly creating = new Set<string>();

  constructor(
    readonly store: SnapshotStore,
    private readonly sheds: ShedService,
    private readonly backends: Map<BackendName, Backend>,
    private readonly serverId: string,
    private readonly logger: Logger,
  ) {}

  async list(): Promise<Snapshot[]> {
    const { records, problems } = this.store.scan();
    for (const p of problems) if (p.unreadable) this.logger.warn("snapshot skipped", { dir: p.dir, reason: p.unreadable });
    return Promise.all(records.map((r) => this.view(r)));
  }

  async get(name: string): Promise<Snapshot> {
    return this.view(this.store.get(name).record);
  }

  async create(req: CreateSnapshotRequest, progress: Progress): Promise<Snapshot & { warnings?: string[] }> {
    return this.store.lock.run(req.name, async () => {
      const taken = this.store.taken(req.name);
      if (taken) {
        throw new ShedError(
          "SNAPSHOT_EXISTS",
          existsSync(join(taken, SNAPSHOT_META))
            ? `snapshot "${req.name}" already exists; pick another name or delete it first (shed snapshot delete ${req.name})`
            : `${taken} is what a snapshot create that did not finish left; reclaim it (shed system prune --orphans) or pick another name`,
        );
      }
      this.creating.add(req.name);
      try {
        return await this.sheds.whileStopped(req.shed, (record, backend) => this.capture(req, record, backend, progress));
      } finally {
        this.creating.delete(req.name);
      }
    });
  }

  private async capture(
    req: CreateSnapshotRequest,
    shed: Parameters<Parameters<ShedService["whileStopped"]>[1]>[0],
    backend: Backend,
    progress: Progress,
  ): Promise<Snapshot & { warnings?: string[] }> {
    const capability = this.capability(backend);
    const dir = this.store.dir(backend.name, req.name);
    mkdirSync(dir, { recursive: false, mode: 0o700 });
    let made: Awaited<ReturnType<SnapshotCapability["capture"]>> | undefined;
    let record: SnapshotRecord;
    try {
      made = await capability.capture(instanceOf(shed), { name: req.name, dir }, progress);
      const localDir = shed.spec.mounts.some((m) => m.target === "/workspace");
      const { cpus, memoryMb, env, upperSizeBytes, pidsLimit } = shed.spec;
      record = {
        version: 1,
        name: req.name,
        backend: backend.name,
        serverId: this.serverId,
        sourceShed: shed.name,
        ...(req.comment ? { comment: req.comment } : {}),
        createdAt: new Date().toISOString(),
        image: shed.spec.image,
        spawnImage: made.spawnImage,
        ...(made.pinnedDigest ? { pinnedDigest: made.pinnedDigest } : {}),
        sizeBytes: made.sizeBytes,
        ...(made.copy ? { copy: made.copy } : {}),
        localDir,
        spec: { cpus, memoryMb, env, ...(upperSizeBytes !== undefined ? { upperSizeBytes } : {}), ...(pidsLimit !== undefined ? { pidsLimit } : {}) },
        data: made.data,
      };
      // Last, atomically: from here on the snapshot exists.
      this.store.commit(dir, record);
    } catch (err) {
      if (made) await capability.remove({ name: req.name, dir, data: made.data }).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    progress({ id: "snapshot", status: "done" });
    this.logger.info("snapshot created", { name: req.name, shed: shed.name, backend: backend.name, bytes: made.sizeBytes, copy: made.copy });
    const warnings = record.localDir ? [`shed "${shed.name}" mounts a host directory at /workspace (--local-dir): its contents are not in the snapshot`] : [];
    return { ...(await this.view(record)), ...(warnings.length ? { warnings } : {}) };
  }

  async delete(name: string): Promise<void> {
    await this.store.lock.run(name, async () => {
      const { record, dir } = this.store.get(name);
      const backend = this.backends.get(record.backend);
      if (!backend) {
        throw new ShedError("UNSUPPORTED", `snapshot "${name}" is of the ${record.backend} backend, which is not enabled on this server; enable it to delete the snapshot`);
      }
      await this.capability(backend).remove(this.handle(record, dir));
      this.store.removeDir(dir);
      this.logger.info("snapshot deleted", { name });
    });
  }

  /** Directories without metadata that no create is writing: what a create that died left. */
  orphans(): SnapshotDirProblem[] {
    return this.store.scan().problems.filter((p) => !p.unreadable && !this.creating.has(p.name) && !this.store.lock.busy(p.name));
  }

  /** Removes an orphan: what its backend made for it outside the directory (found by name), then the directory. */
  async reclaimOrphan(orphan: SnapshotDirProblem): Promise<void> {
    await this.store.lock.run(orphan.name, async () => {
      if (existsSync(join(orphan.dir, SNAPSHOT_META))) return;
      const backend = this.backends.get(orphan.backend);
      if (backend?.snapshots) await backend.snapshots.remove({ name: orphan.name, dir: orphan.dir, data: {} });
      rmSync(orphan.dir, { recursive: true, force: true });
    });
  }

  /** Images snapshots pin (kept by image prune and rm). */
  pins(): { name: string; image: string }[] {
    return this.store
      .scan()
      .records.filter((r) => r.pinnedDigest)
      .map((r) => ({ name: `snapshot ${r.name}`, image: r.pinnedDigest! }));
  }

  private capability(backend: Backend): SnapshotCapability {
    if (!backend.features.snapshots || !backend.snapshots) {
      throw new ShedError("UNSUPPORTED", `the ${backend.name} backend has no snapshots (its features.snapshots is false)`);
    }
    return backend.snapshots;
  }

  private handle(record: SnapshotRecord, dir: string): SnapshotHandle {
    return { name: record.name, dir, data: record.data };
  }

  private async view(record: SnapshotRecord): Promise<Snapshot> {
    const backend = this.backends.get(record.backend);
    const dir = this.store.dir(record.backend, record.name);
    const present = backend?.snapshots ? await backend.snapshots.present(this.handle(record, dir)).catch(() => false) : false;
    return {
      name: record.name,
      backend: record.backend,
      sourceShed: record.sourceShed,
      ...(record.comment ? { comment: record.comment } : {}),
      createdAt: record.createdAt,
      image: record.image,
      imageDigest: record.pinnedDigest ?? record.spawnImage,
      imagePresent: present,
      sizeBytes: record.sizeBytes,
      ...(record.copy ? { copy: record.copy } : {}),
      localDir: record.localDir,
      cpus: record.spec.cpus,
      memoryMb: record.spec.memoryMb,
    };
  }
}
