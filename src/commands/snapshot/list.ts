import { SNAPSHOT_API } from "../../api/endpoints/snapshots.ts";
import { defineCommand } from "../../cli/command.ts";
import { cli } from "../../cli/context.ts";
import { LIST_ARGS } from "../../cli/list-args.ts";
import { formatBytes } from "../../cli/output.ts";
import { renderTable } from "../../cli/table.ts";
import { ago } from "../../cli/time-format.ts";

export default defineCommand({
  meta: { name: "list", aliases: ["ls"], description: "List the server's snapshots", examples: ["shed snapshot list", "shed snapshot list -q"] },
  args: { ...LIST_ARGS },
  async run({ args }) {
    const { snapshots } = await cli().client().call(SNAPSHOT_API.listSnapshots);
    await cli().out.list({ snapshots }, snapshots, {
      quiet: args.quiet,
      format: args.format,
      quietKey: (s) => s.name,
      table: () => {
        if (snapshots.length === 0) return "No snapshots. Make one of a stopped shed: shed snapshot create SHED NAME";
        const rows = snapshots.map((s) => ({
          name: s.name,
          backend: s.backend,
          source: s.sourceShed,
          size: formatBytes(s.sizeBytes),
          image: s.imagePresent ? s.image : `${s.image} (gone)`,
          created: ago(s.createdAt),
          comment: s.comment ?? "",
        }));
        return renderTable(rows, [
          { key: "name", name: "NAME" },
          { key: "backend", name: "BACKEND" },
          { key: "source", name: "SOURCE" },
          { key: "size", name: "SIZE" },
          { key: "image", name: "IMAGE" },
          { key: "created", name: "CREATED" },
          { key: "comment", name: "COMMENT" },
        ]);
      },
    });
  },
});
