import { defineCommand } from "../../cli/command.ts";
import { IMAGE_API } from "../../api/endpoints/images.ts";
import { cli } from "../../cli/context.ts";
import { formatBytes } from "../../cli/output.ts";

export default defineCommand({
  meta: { name: "pull", description: "Pull an image from its registry into the server's store", examples: ["shed image pull registry.example:5000/team/dev:1", "shed image pull dev --platform linux/arm64"] },
  args: {
    ref: { type: "positional", description: "Image ref (registry/repo:tag, repo@sha256:..., or a config alias)", required: true },
    platform: { type: "string", valueHint: "OS/ARCH", description: "os/arch[/variant] of a multi-platform image (default: the server's)" },
  },
  async run({ args }) {
    const { out } = cli();
    const body = { ref: args.ref, ...(args.platform ? { platform: args.platform } : {}) };
    const r = await cli().client().call(IMAGE_API.pullImage, { body, onProgress: out.progress });
    const fetched = r.downloaded > 0 ? `${formatBytes(r.downloaded)} downloaded` : "already up to date";
    await out.result(r, `Pulled ${r.ref}${r.platform ? ` (${r.platform})` : ""}\nDigest: ${r.digest}\n${r.layers} layers, ${formatBytes(r.size)}; ${fetched}`);
  },
});
