import { defineCommand } from "citty";
import { removeImage } from "../../api/image-client.ts";
import type { RemoveImageResult } from "../../api/schemas/image.ts";
import { usageError } from "../main.ts";
import { cli } from "../context.ts";

export default defineCommand({
  meta: { name: "rm", description: "Remove images from the ref index (alias: delete); `prune` reclaims their space" },
  args: {
    ref: { type: "positional", description: "Ref, digest (or unique prefix) or alias; several may be given", required: true },
    force: { type: "boolean", alias: "f", description: "Remove even when a shed was created from it" },
  },
  async run({ args }) {
    const refs = [args.ref, ...args._.filter((a) => a !== args.ref)];
    if (refs.length === 0) throw usageError("name an image to remove");
    const removed: RemoveImageResult["removed"] = [];
    for (const ref of refs) removed.push(...(await removeImage(cli().client(), ref, Boolean(args.force))).removed);
    await cli().out.result({ removed }, removed.map((r) => `Untagged ${r.ref ?? r.digest}`).join("\n"));
  },
});
