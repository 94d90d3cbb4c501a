import { defineCommand } from "../../cli/command.ts";
import { IMAGE_API } from "../../api/endpoints/images.ts";
import { cli } from "../../cli/context.ts";
import { formatBytes } from "../../cli/output.ts";

export default defineCommand({
  meta: {
    name: "prune",
    examples: ["shed image prune --dry-run", "shed image prune --all"],
    description: "Remove dangling images and blobs no image uses (with --all: every image no shed or config entry uses)",
  },
  args: {
    "dry-run": { type: "boolean", description: "Only say what would be removed" },
    all: { type: "boolean", alias: "a", description: "Also remove tagged images that no shed and no config entry uses" },
  },
  async run({ args }) {
    const { out } = cli();
    const r = await cli().client().call(IMAGE_API.pruneImages, { body: { dryRun: Boolean(args["dry-run"]), all: Boolean(args.all) } });
    const verb = r.dryRun ? "Would remove" : "Removed";
    const lines = r.images.map((i) => `${verb} ${i.ref ?? i.digest}`);
    lines.push(`${verb} ${r.blobs} blobs; ${r.dryRun ? "would reclaim" : "reclaimed"} ${formatBytes(r.reclaimedBytes)}`);
    for (const b of r.broken) lines.push(`warning: ${b.ref ?? b.digest} is missing blobs ${b.missing.join(", ")}; pull it again`);
    await out.result(r, lines.join("\n"));
  },
});
