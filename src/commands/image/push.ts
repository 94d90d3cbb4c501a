import { defineCommand } from "../../cli/command.ts";
import { IMAGE_API } from "../../api/endpoints/images.ts";
import { cli } from "../../cli/context.ts";
import { formatBytes } from "../../cli/output.ts";

export default defineCommand({
  meta: { name: "push", description: "Push an image from the server's store to a registry (byte-exact: same digest)", examples: ["shed image push team/dev:2 registry.example:5000/team/dev:2"] },
  args: {
    source: { type: "positional", description: "Image in the store (ref, digest or alias)", required: true, complete: "image" },
    destination: { type: "positional", description: "Where to push it: registry/repo:tag", required: true },
  },
  async run({ args }) {
    const { out } = cli();
    const r = await cli().client().call(IMAGE_API.pushImage, { body: { source: args.source, destination: args.destination }, onProgress: out.progress });
    await out.result(
      r,
      `Pushed ${r.ref}\nDigest: ${r.digest}\n${r.uploaded} blobs uploaded, ${r.mounted} mounted, ${r.existing} already there (${formatBytes(r.size)})`,
    );
  },
});
