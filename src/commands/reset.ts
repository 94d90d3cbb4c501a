import { defineCommand } from "citty";
import { cli } from "./context.ts";

export default defineCommand({
  meta: { name: "reset", description: "Wipe a stopped shed back to its image (same name and settings)" },
  args: { name: { type: "positional", description: "Shed name", required: true } },
  async run({ args }) {
    const { out } = cli();
    const shed = await cli().client().shedAction(args.name, "reset", undefined, out.progress);
    await out.result(shed, `Reset ${shed.name}; start it with: shed start ${shed.name}`);
  },
});
