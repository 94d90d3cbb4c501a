import { defineCommand } from "citty";
import { cli } from "./context.ts";

export default defineCommand({
  meta: { name: "delete", description: "Delete a shed and everything it owns (alias: rm)" },
  args: {
    name: { type: "positional", description: "Shed name", required: true },
    force: { type: "boolean", alias: "f", description: "Delete even if it is running" },
  },
  async run({ args }) {
    const { out } = cli();
    await cli().client().deleteShed(args.name, Boolean(args.force), out.progress);
    await out.result({ name: args.name, deleted: true }, `Deleted ${args.name}.`);
  },
});
