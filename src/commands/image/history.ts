import { defineCommand } from "citty";
import { imageHistory } from "../../api/image-client.ts";
import { cli } from "../context.ts";
import { formatBytes } from "../output.ts";
import { renderTable } from "../table.ts";
import { ago } from "../time-format.ts";

export default defineCommand({
  meta: { name: "history", description: "Show the layer stack of an image, newest first" },
  args: {
    ref: { type: "positional", description: "Image (ref, digest or alias)", required: true },
    "no-trunc": { type: "boolean", description: "Do not shorten the created-by commands" },
  },
  async run({ args }) {
    const h = await imageHistory(cli().client(), args.ref);
    await cli().out.result(h, async () => {
      const rows = h.history.map((e) => {
        const by = (e.createdBy ?? "").replace(/\s+/g, " ");
        return {
          layer: e.layer ? e.layer.replace(/^sha256:/, "").slice(0, 12) : "<empty>",
          created: e.created ? ago(e.created) : "",
          createdBy: args["no-trunc"] || by.length <= 60 ? by : `${by.slice(0, 57)}...`,
          size: formatBytes(e.size),
          comment: e.comment ?? "",
        };
      });
      return renderTable(rows, [
        { key: "layer", name: "LAYER" },
        { key: "created", name: "CREATED" },
        { key: "createdBy", name: "CREATED BY" },
        { key: "size", name: "SIZE" },
        { key: "comment", name: "COMMENT" },
      ]);
    });
  },
});
