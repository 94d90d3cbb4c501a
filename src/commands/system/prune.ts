import { SYSTEM_API } from "../../api/endpoints/system.ts";
import { defineCommand } from "../../cli/command.ts";
import { confirm } from "../../cli/confirm.ts";
import { cli } from "../../cli/context.ts";
import { formatBytes } from "../../cli/output.ts";
import { parseDuration } from "../../cli/values.ts";

export default defineCommand({
  meta: {
    name: "prune",
    description: "Reclaim disk: unused images and orphans by default; never snapshots or an image a shed, snapshot, tag or alias uses",
    details:
      "--orphans: what a snapshot create that died left. --instances: containers and VMs no shed record names. --logs: console logs of sheds that are not running. " +
      "--until applies to orphans, logs and images (by when the server got them). Nothing is removed while a state file cannot be read. --dry-run lists exactly what a prune then removes.",
    examples: ["shed system prune --dry-run", "shed system prune -f", "shed system prune --orphans --logs --until 72h -f"],
  },
  args: {
    images: { type: "boolean", description: "Images no shed, snapshot, tag or config alias keeps (and their erofs roots)" },
    instances: { type: "boolean", description: "Containers and VMs of this server that no shed record names" },
    logs: { type: "boolean", description: "Console logs of sheds that are not running" },
    orphans: { type: "boolean", description: "Snapshot directories a create that did not finish left" },
    until: { type: "string", valueHint: "DURATION", description: "Only what is older than this (e.g. 72h)" },
    "dry-run": { type: "boolean", description: "List what would be removed, remove nothing" },
    force: { type: "boolean", alias: "f", description: "Do not ask" },
  },
  async run({ args }) {
    const dryRun = Boolean(args["dry-run"]);
    if (!dryRun) await confirm("Remove what `shed system prune --dry-run` lists?", args.force);
    const result = await cli()
      .client()
      .call(SYSTEM_API.pruneSystem, {
        body: {
          images: args.images || undefined,
          instances: args.instances || undefined,
          logs: args.logs || undefined,
          orphans: args.orphans || undefined,
          untilSeconds: args.until === undefined ? undefined : parseDuration("--until", args.until),
          dryRun,
        },
      });
    const verb = dryRun ? "Would remove" : "Removed";
    const lines = result.removed.map((r) => `${verb} ${r.category.padEnd(9)} ${r.name}${r.bytes ? ` (${formatBytes(r.bytes)})` : ""}`);
    lines.push(`${dryRun ? "Would reclaim" : "Reclaimed"} ${formatBytes(result.reclaimedBytes)}.`);
    await cli().out.result(result, lines.join("\n"));
  },
});
