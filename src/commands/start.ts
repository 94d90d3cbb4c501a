import { defineCommand } from "citty";
import { cli } from "./context.ts";

export default defineCommand({
  meta: { name: "start", description: "Start a stopped shed" },
  args: { name: { type: "positional", description: "Shed name", required: true } },
  async run({ args }) {
    const { out } = cli();
    const shed = await cli().client().shedAction(args.name, "start", undefined, out.progress);
    await out.result(shed, `Started ${shed.name}.`);
  },
});
