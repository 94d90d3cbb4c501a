import type { SNAPSHOT_API } from "../../api/endpoints/snapshots.ts";
import type { ServerContext } from "../context.ts";
import type { Handlers } from "./mount.ts";

/** /api/snapshots: snapshots of stopped sheds (spawning from one is `POST /api/sheds` with fromSnapshot). */
export function snapshotHandlers(ctx: ServerContext): Handlers<typeof SNAPSHOT_API> {
  const { snapshots } = ctx;
  return {
    listSnapshots: async () => ({ snapshots: await snapshots.list() }),
    createSnapshot: ({ body }) => (progress) => snapshots.create(body, progress),
    getSnapshot: ({ params }) => snapshots.get(params.name),
    deleteSnapshot: async ({ params }) => {
      await snapshots.delete(params.name);
    },
  };
}
