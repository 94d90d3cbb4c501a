import { defineCommand } from "../../cli/command.ts";
import { IMAGE_API } from "../../api/endpoints/images.ts";
import { cli } from "../../cli/context.ts";
import { formatBytes } from "../../cli/output.ts";
import { renderTable } from "../../cli/table.ts";
import { ago } from "../../cli/time-format.ts";

export default defineCommand({
  meta: { name: "history", description: "Show the layer stack of an image, newest first", examples: ["shed image history dev"] },
  args: {
    ref: { type: "positional", description: "Image (ref, digest or alias)", required: true, complete: "image" },
    "no-trunc": { type: "boolean", description: "Do not shorten the created-by commands" },
  },
  async run({ args }) {
    const h = await cli().client().call(IMAGE_API.imageHistory, { query: { ref: args.ref } });
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
