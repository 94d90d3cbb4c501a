import { defineCommand } from "../../cli/command.ts";
import { IMAGE_API } from "../../api/endpoints/images.ts";
import { cli } from "../../cli/context.ts";

export default defineCommand({
  meta: { name: "inspect", description: "Show an image's manifest, config, annotations and digest (JSON)", examples: ["shed image inspect dev"] },
  args: {
    ref: { type: "positional", description: "Image (ref, digest or unique prefix, or alias)", required: true, complete: "image" },
  },
  async run({ args }) {
    const info = await cli().client().call(IMAGE_API.inspectImage, { query: { ref: args.ref } });
    await cli().out.result(info, JSON.stringify(info, null, 2));
  },
});
