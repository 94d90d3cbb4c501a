import { SNAPSHOT_API } from "../../api/endpoints/snapshots.ts";
import { defineCommand } from "../../cli/command.ts";
import { confirm } from "../../cli/confirm.ts";
import { cli } from "../../cli/context.ts";

export default defineCommand({
  meta: {
    name: "delete",
    aliases: ["rm"],
    description: "Delete a snapshot (sheds spawned from it keep their own copy)",
    details: "Asks first on a terminal; -f skips the question. Snapshots are only ever deleted this way: system prune keeps them.",
    examples: ["shed snapshot delete baseline-v1", "shed snapshot delete -f baseline-v1"],
  },
  args: {
    snapshot: { type: "positional", required: true, description: "Snapshot name" },
    force: { type: "boolean", alias: "f", description: "Do not ask" },
  },
  async run({ args }) {
    await confirm(`Delete snapshot ${args.snapshot}?`, args.force);
    await cli().client().call(SNAPSHOT_API.deleteSnapshot, { params: { name: args.snapshot } });
    await cli().out.result({ name: args.snapshot, deleted: true }, `Deleted snapshot ${args.snapshot}.`);
  },
});
