import { defineCommand } from "../../cli/command.ts";
import { IMAGE_API } from "../../api/endpoints/images.ts";
import { cli } from "../../cli/context.ts";

export default defineCommand({
  meta: { name: "tag", description: "Point a new ref at an image in the server's store", examples: ["shed image tag dev team/dev:2"] },
  args: {
    source: { type: "positional", description: "Existing image (ref, digest or alias)", required: true, complete: "image" },
    target: { type: "positional", description: "New ref (repo:tag)", required: true },
  },
  async run({ args }) {
    const r = await cli().client().call(IMAGE_API.tagImage, { body: { source: args.source, target: args.target } });
    await cli().out.result(r, `Tagged ${r.ref} -> ${r.digest}`);
  },
});
