import { defineCommand } from "citty";
import { inspectImage } from "../../api/image-client.ts";
import { cli } from "../context.ts";

export default defineCommand({
  meta: { name: "inspect", description: "Show an image's manifest, config, annotations and digest (JSON)" },
  args: {
    ref: { type: "positional", description: "Image (ref, digest or unique prefix, or alias)", required: true },
  },
  async run({ args }) {
    const info = await inspectImage(cli().client(), args.ref);
    await cli().out.result(info, JSON.stringify(info, null, 2));
  },
});
