import { SNAPSHOT_API } from "../../api/endpoints/snapshots.ts";
import { defineCommand } from "../../cli/command.ts";
import { cli } from "../../cli/context.ts";
import { formatBytes } from "../../cli/output.ts";

export default defineCommand({
  meta: {
    name: "create",
    description: "Snapshot a stopped shed: its rootfs (packages, dotfiles, files outside a --local-dir workspace) over its image",
    details: "The shed must be stopped (shed stop NAME). In-memory state and host mounts are not captured.",
    examples: ["shed snapshot create base baseline-v1", "shed snapshot create base baseline-v1 --comment 'agent + deps'"],
  },
  args: {
    shed: { type: "positional", required: true, description: "The stopped shed", complete: "shed" },
    snapshot: { type: "positional", required: true, description: "The snapshot's name (lowercase letters, digits, hyphens)" },
    comment: { type: "string", valueHint: "TEXT", description: "What the snapshot is for" },
  },
  async run({ args }) {
    const { out } = cli();
    const snap = await cli()
      .client()
      .call(SNAPSHOT_API.createSnapshot, { body: { shed: args.shed, name: args.snapshot, comment: args.comment }, onProgress: out.progress });
    for (const w of snap.warnings ?? []) out.warn(w);
    await out.result(
      snap,
      `Created snapshot ${snap.name} of ${snap.sourceShed} (${snap.backend}, ${formatBytes(snap.sizeBytes)}${snap.copy ? `, ${snap.copy}` : ""}).\n` +
        `Spawn a shed from it: shed create NEW --from-snapshot ${snap.name}`,
    );
  },
});
