import { defineCommand } from "citty";
import { listImages } from "../../api/image-client.ts";
import { cli } from "../context.ts";
import { formatBytes } from "../output.ts";
import { renderTable } from "../table.ts";
import { ago } from "../time-format.ts";

export default defineCommand({
  meta: { name: "ls", description: "List the server's images (alias: list)" },
  args: {
    digests: { type: "boolean", description: "Show full digests" },
  },
  async run({ args }) {
    const { out } = cli();
    const images = await listImages(cli().client());
    await out.result({ images }, async () => {
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
    });
  },
});
