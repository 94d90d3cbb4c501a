import { defineCommand } from "citty";
import { pullImage } from "../../api/image-client.ts";
import { cli } from "../context.ts";
import { formatBytes } from "../output.ts";

export default defineCommand({
  meta: { name: "pull", description: "Pull an image from its registry into the server's store" },
  args: {
    ref: { type: "positional", description: "Image ref (registry/repo:tag, repo@sha256:..., or a config alias)", required: true },
    platform: { type: "string", description: "os/arch[/variant] of a multi-platform image (default: the server's)" },
  },
  async run({ args }) {
    const { out } = cli();
    const r = await pullImage(cli().client(), { ref: args.ref, ...(args.platform ? { platform: args.platform } : {}) }, out.progress);
    const fetched = r.downloaded > 0 ? `${formatBytes(r.downloaded)} downloaded` : "already up to date";
    await out.result(r, `Pulled ${r.ref}${r.platform ? ` (${r.platform})` : ""}\nDigest: ${r.digest}\n${r.layers} layers, ${formatBytes(r.size)}; ${fetched}`);
  },
});
