import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import * as v from "valibot";
import { ShedError } from "../../api/errors.ts";
import { BackendNameSchema, SHED_NAME_PATTERN, ShedNameSchema } from "../../api/schemas/shed.ts";
import { formatIssues } from "../../api/validation.ts";
import { fsyncDir, writeFileAtomic } from "../../fs/atomic-file.ts";
import { KeyedLock } from "../state/lock.ts";

/** The metadata file: a snapshot exists exactly when its directory has it (written last, atomically). */
export const SNAPSHOT_META = "snapshot.json";

export const SnapshotRecordSchema = v.object({
  version: v.literal(1),
  name: ShedNameSchema,
  backend: BackendNameSchema,
  serverId: v.string(),
  sourceShed: ShedNameSchema,
  comment: v.optional(v.string()),
  createdAt: v.string(),
  image: v.string(),
  spawnImage: v.string(),
  pinnedDigest: v.optional(v.string()),
  sizeBytes: v.number(),
  copy: v.optional(v.picklist(["reflink", "copy"])),
  localDir: v.boolean(),
  /** The source's spec without its name and mounts: a spawn's defaults. */
  spec: v.object({
    cpus: v.number(),
    memoryMb: v.number(),
    env: v.optional(v.record(v.string(), v.string()), {}),
    upperSizeBytes: v.optional(v.number()),
    pidsLimit: v.optional(v.number()),
  }),
  data: v.record(v.string(), v.unknown()),
});
export type SnapshotRecord = v.InferOutput<typeof SnapshotRecordSchema>;

/** A snapshot directory that is not a snapshot: no metadata (a create that died), or metadata that cannot be read. */
export interface SnapshotDirProblem {
  backend: string;
  name: string;
  dir: string;
  /** Absent: no metadata (an orphan, reclaimable); present: why the metadata is unreadable (never reclaimed). */
  unreadable?: string;
}

/**
 * Snapshots on disk: `<snapshots_dir of the backend>/<name>/` holding the backend's files
 * (read-only) and `snapshot.json`, written last. Names are unique across backends.
 */
export class SnapshotStore {
  /** One operation per snapshot name at a time: create, delete, and spawns from it. */
  readonly lock = new KeyedLock();

  /** Snapshot dirs by backend. */
  constructor(private readonly dirs: Map<string, string>) {
    for (const dir of dirs.values()) mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  static dirFor(stateDir: string, backend: string, configured: string | undefined): string {
    return resolve(configured ?? join(stateDir, backend, "snapshots"));
  }

  /** Defence in depth: only a valid name ever becomes a path. */
  dir(backend: string, name: string): string {
    if (!SHED_NAME_PATTERN.test(name)) throw new ShedError("INVALID_NAME", `invalid snapshot name ${JSON.stringify(name)}`);
    const root = this.dirs.get(backend);
    if (!root) throw new ShedError("UNSUPPORTED", `backend "${backend}" keeps no snapshots on this server`);
    return join(root, name);
  }

  /** The snapshot directories of every backend. */
  roots(): string[] {
    return [...this.dirs.values()];
  }

  /** Every snapshot, and the directories that are none (orphans, unreadable metadata). */
  scan(): { records: SnapshotRecord[]; problems: SnapshotDirProblem[] } {
    const records: SnapshotRecord[] = [];
    const problems: SnapshotDirProblem[] = [];
    for (const [backend, root] of this.dirs) {
      if (!existsSync(root)) continue;
      for (const name of readdirSync(root).sort()) {
        const dir = join(root, name);
        if (!statSync(dir).isDirectory()) continue;
        const read = readRecord(dir);
        if (read === undefined) problems.push({ backend, name, dir });
        else if ("problem" in read) problems.push({ backend, name, dir, unreadable: read.problem });
        else records.push(read.record);
      }
    }
    return { records: records.sort((a, b) => a.name.localeCompare(b.name)), problems };
  }

  /** The snapshot, SNAPSHOT_NOT_FOUND, or (unreadable metadata) INTERNAL naming the file. */
  get(name: string): { record: SnapshotRecord; dir: string } {
    for (const backend of this.dirs.keys()) {
      const dir = this.dir(backend, name);
      const read = existsSync(dir) ? readRecord(dir) : undefined;
      if (!read) continue;
      if ("problem" in read) throw new ShedError("INTERNAL", `snapshot "${name}": ${read.problem}; remove ${dir} by hand if it is not needed`);
      return { record: read.record, dir };
    }
    throw new ShedError("SNAPSHOT_NOT_FOUND", `snapshot "${name}" not found (shed snapshot list shows them)`);
  }

  /** Whether any backend has a directory of this name (a snapshot, or what a failed create left). */
  taken(name: string): string | undefined {
    for (const backend of this.dirs.keys()) {
      const dir = this.dir(backend, name);
      if (existsSync(dir)) return dir;
    }
    return undefined;
  }

  /** The metadata, read-only, written last: from here on the snapshot exists. */
  commit(dir: string, record: SnapshotRecord): void {
    writeFileAtomic(join(dir, SNAPSHOT_META), `${JSON.stringify(record, null, 2)}\n`, 0o444);
  }

  /** Removes a snapshot directory: the metadata first, so a crash half-way leaves an orphan, never a broken snapshot. */
  removeDir(dir: string): void {
    rmSync(join(dir, SNAPSHOT_META), { force: true });
    fsyncDir(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

function readRecord(dir: string): { record: SnapshotRecord } | { problem: string } | undefined {
  const file = join(dir, SNAPSHOT_META);
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    return { problem: `${file} cannot be read (${(err as Error).message})` };
  }
  const parsed = v.safeParse(SnapshotRecordSchema, raw);
  if (!parsed.success) return { problem: `${file} is not a snapshot record (${formatIssues(parsed.issues)})` };
  return { record: parsed.output };
}
