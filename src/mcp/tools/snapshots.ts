import * as v from "valibot";
import { SNAPSHOT_API } from "../../api/endpoints/snapshots.ts";
import { anyBackend, confirmField, defineTool, described, optionalField, type ToolDef, type ToolEnv } from "../tool.ts";
import { progressLine } from "./sheds.ts";

/**
 * Snapshots (seed 003): create, list, info, delete. Offered only where some backend this
 * server runs has the `snapshots` feature; create_shed's fromSnapshot spawns from one.
 */

const CREATE = SNAPSHOT_API.createSnapshot.request.entries;
const SNAPSHOT = described(SNAPSHOT_API.getSnapshot.params.name, "The snapshot's name (lowercase letters, digits and hyphens, as list_snapshots shows it)");
const OFFERED = {
  offered: (env: ToolEnv) => anyBackend(env, "snapshots"),
  notOffered: "no backend of this server has snapshots (server_info shows each backend's features)",
};

export const SNAPSHOT_TOOLS: ToolDef[] = [
  defineTool({
    name: "create_snapshot",
    title: "Snapshot a shed",
    description:
      "Captures a STOPPED shed's files (everything it wrote over its image) as a named, read-only snapshot; stop_shed it first. " +
      "Then create_shed with fromSnapshot spawns new sheds that start from exactly that state. `warnings` says what is not in it (a host directory mounted at /workspace).",
    input: () =>
      v.object({
        shed: described(CREATE.shed, "The stopped shed to capture"),
        name: described(CREATE.name, "Name of the new snapshot (1-63 lowercase letters, digits, hyphens; unique on the server)"),
        comment: optionalField(CREATE.comment.wrapped, "Free text kept with the snapshot, e.g. what state it holds"),
      }),
    ...OFFERED,
    run: ({ client, signal, progress }, req) => client.createSnapshot(req, { signal, onProgress: (e) => progress(progressLine(e)) }),
  }),
  defineTool({
    name: "list_snapshots",
    title: "List snapshots",
    description: "All snapshots on the server: name, backend, the shed each was taken of, its image, size and when it was made.",
    input: () => v.object({}),
    annotations: { readOnlyHint: true },
    ...OFFERED,
    run: async ({ client }) => ({ snapshots: await client.snapshots() }),
  }),
  defineTool({
    name: "snapshot_info",
    title: "Snapshot info",
    description: "One snapshot: its source shed, backend, image (and whether that image is still present), size, CPUs and memory.",
    input: () => v.object({ name: SNAPSHOT }),
    annotations: { readOnlyHint: true },
    ...OFFERED,
    run: ({ client }, { name }) => client.snapshot(name),
  }),
  defineTool({
    name: "delete_snapshot",
    title: "Delete a snapshot",
    description: "Deletes a snapshot for good (sheds spawned from it keep their own copy). Needs confirm: true.",
    input: () =>
      v.object({
        name: SNAPSHOT,
        confirm: confirmField("deleting a snapshot cannot be undone"),
      }),
    annotations: { destructiveHint: true },
    ...OFFERED,
    run: async ({ client }, { name }) => {
      await client.deleteSnapshot(name);
      return { name, deleted: true };
    },
  }),
];
