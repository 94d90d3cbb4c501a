import { SNAPSHOT_API } from "../../api/endpoints/snapshots.ts";
import { defineCommand } from "../../cli/command.ts";
import { cli } from "../../cli/context.ts";
import { formatBytes } from "../../cli/output.ts";

export default defineCommand({
  meta: { name: "info", description: "Show a snapshot, and whether the image it pins is still present", examples: ["shed snapshot info baseline-v1", "shed snapshot info baseline-v1 --json"] },
  args: { snapshot: { type: "positional", required: true, description: "Snapshot name" } },
  async run({ args }) {
    const s = await cli().client().call(SNAPSHOT_API.getSnapshot, { params: { name: args.snapshot } });
    const lines = [
      `Name:       ${s.name}`,
      `Backend:    ${s.backend}`,
      `Source:     ${s.sourceShed}`,
      `Created:    ${s.createdAt}`,
      `Image:      ${s.image}`,
      `Pinned:     ${s.imageDigest} (${s.imagePresent ? "present" : "gone: spawns from this snapshot will fail"})`,
      `Size:       ${formatBytes(s.sizeBytes)}${s.copy ? ` (${s.copy})` : ""}`,
      `Resources:  ${s.cpus} CPUs, ${s.memoryMb} MB`,
      ...(s.comment ? [`Comment:    ${s.comment}`] : []),
      ...(s.localDir ? ["Workspace:  a host directory (--local-dir) on the source: not in the snapshot"] : []),
    ];
    await cli().out.result(s, lines.join("\n"));
  },
});
