import { defineCommand } from "citty";
import { cli } from "./context.ts";
import { numberArg } from "./create.ts";

export default defineCommand({
  meta: { name: "stop", description: "Stop a running shed (its files are kept)" },
  args: {
    name: { type: "positional", description: "Shed name", required: true },
    time: { type: "string", alias: "t", description: "Seconds to wait before killing (default: the server's stop_timeout)" },
  },
  async run({ args }) {
    const timeoutSeconds = args.time === undefined ? undefined : numberArg("--time", args.time);
    const shed = await cli().client().shedAction(args.name, "stop", { timeoutSeconds });
    await cli().out.result(shed, `Stopped ${shed.name}.`);
  },
});
