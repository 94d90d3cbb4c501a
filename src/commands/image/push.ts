import { defineCommand } from "citty";
import { pushImage } from "../../api/image-client.ts";
import { cli } from "../context.ts";
import { formatBytes } from "../output.ts";

export default defineCommand({
  meta: { name: "push", description: "Push an image from the server's store to a registry (byte-exact: same digest)" },
  args: {
    source: { type: "positional", description: "Image in the store (ref, digest or alias)", required: true },
    destination: { type: "positional", description: "Where to push it: registry/repo:tag", required: true },
  },
  async run({ args }) {
    const { out } = cli();
    const r = await pushImage(cli().client(), args.source, args.destination, out.progress);
    await out.result(
      r,
      `Pushed ${r.ref}\nDigest: ${r.digest}\n${r.uploaded} blobs uploaded, ${r.mounted} mounted, ${r.existing} already there (${formatBytes(r.size)})`,
    );
  },
});
