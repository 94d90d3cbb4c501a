import { defineCommand } from "../../cli/command.ts";
import { IMAGE_API } from "../../api/endpoints/images.ts";
import { cli } from "../../cli/context.ts";
import { LIST_ARGS } from "../../cli/list-args.ts";
import { formatBytes } from "../../cli/output.ts";
import { renderTable } from "../../cli/table.ts";
import { ago } from "../../cli/time-format.ts";

export default defineCommand({
  meta: { name: "ls", aliases: ["list"], description: "List the server's images", examples: ["shed image ls", "shed image ls -q", "shed image ls --format '{{.name}} {{.digest}}'"] },
  args: {
    digests: { type: "boolean", description: "Show full digests" },
    ...LIST_ARGS,
  },
  async run({ args }) {
    const { out } = cli();
    const { images } = await cli().client().call(IMAGE_API.listImages);
    await out.list({ images }, images, { quiet: args.quiet, format: args.format, quietKey: (i) => i.name ?? i.digest, table: () => {
      if (images.length === 0) return "No images. Pull one with: shed image pull <ref>";
      const rows = images.map((i) => ({
        ref: i.name ? `${i.name}${i.aliases?.length ? ` (${i.aliases.join(", ")})` : ""}` : "<none>",
        digest: args.digests ? i.digest : i.digest.replace(/^sha256:/, "").slice(0, 12),
        size: formatBytes(i.size),
        source: i.source,
        created: i.created ? ago(i.created) : "",
      }));
      return renderTable(rows, [
        { key: "ref", name: "REF" },
        { key: "digest", name: "DIGEST" },
        { key: "size", name: "SIZE" },
        { key: "source", name: "SOURCE" },
        { key: "created", name: "CREATED" },
      ]);
    } });
  },
});
