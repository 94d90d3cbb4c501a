import { defineEndpoints } from "../endpoint.ts";
import { CreateSnapshotRequestSchema, CreateSnapshotResultSchema, SnapshotListSchema, SnapshotNameSchema, SnapshotSchema } from "../schemas/snapshot.ts";

const SNAPSHOT_PARAMS = { name: SnapshotNameSchema };

/** /api/snapshots: named, read-only captures of stopped sheds (seed 003); `POST /api/sheds` with fromSnapshot spawns from one. */
export const SNAPSHOT_API = defineEndpoints({
  listSnapshots: { method: "get", path: "/api/snapshots", summary: "List snapshots (of every backend)", response: SnapshotListSchema },
  createSnapshot: {
    method: "post",
    path: "/api/snapshots",
    summary: "Snapshot a stopped shed (its writable state over its pinned image)",
    request: CreateSnapshotRequestSchema,
    names: ["shed", "name"],
    response: CreateSnapshotResultSchema,
    status: 201,
    progress: true,
    errors: ["INVALID_NAME", "SHED_NOT_FOUND", "SHED_NOT_STOPPED", "SNAPSHOT_EXISTS", "UNSUPPORTED", "STORAGE_FULL"],
  },
  getSnapshot: {
    method: "get",
    path: "/api/snapshots/{name}",
    params: SNAPSHOT_PARAMS,
    summary: "One snapshot, with whether its pinned image is still present",
    response: SnapshotSchema,
    errors: ["INVALID_NAME", "SNAPSHOT_NOT_FOUND"],
  },
  deleteSnapshot: {
    method: "delete",
    path: "/api/snapshots/{name}",
    params: SNAPSHOT_PARAMS,
    summary: "Delete a snapshot (sheds spawned from it keep their own copy)",
    errors: ["INVALID_NAME", "SNAPSHOT_NOT_FOUND"],
  },
});
