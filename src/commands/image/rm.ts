import { defineCommand } from "../../cli/command.ts";
import { IMAGE_API } from "../../api/endpoints/images.ts";
import type { RemoveImageResult } from "../../api/schemas/image.ts";
import { cli } from "../../cli/context.ts";

export default defineCommand({
  meta: {
    name: "rm",
    aliases: ["delete"],
    description: "Remove images from the ref index; `shed image prune` reclaims their space",
    examples: ["shed image rm team/dev:2", "shed image rm -f old:1 old:2"],
  },
  args: {
    refs: { type: "positional", multiple: true, description: "Refs, digests (or unique prefixes) or aliases", required: true, complete: "image" },
    force: { type: "boolean", alias: "f", description: "Remove even when a shed was created from it" },
  },
  async run({ args }) {
    const refs = args.refs;
    const removed: RemoveImageResult["removed"] = [];
    const force = args.force ? ("true" as const) : undefined;
    for (const ref of refs) removed.push(...(await cli().client().call(IMAGE_API.removeImage, { query: { ref, force } })).removed);
    await cli().out.result({ removed }, removed.map((r) => `Untagged ${r.ref ?? r.digest}`).join("\n"));
  },
});
