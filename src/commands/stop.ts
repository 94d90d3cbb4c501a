import { SHED_API } from "../api/endpoints/sheds.ts";
import { defineCommand } from "../cli/command.ts";
import { cli } from "../cli/context.ts";
import { eachShed } from "../cli/each-shed.ts";
import { numberArg } from "../cli/values.ts";

export default defineCommand({
  meta: {
    name: "stop",
    preconnect: true,
    description: "Stop running sheds (their files are kept)",
    examples: ["shed stop hello", "shed stop web db -t 30"],
  },
  args: {
    names: { type: "positional", multiple: true, required: true, description: "Shed names", complete: "shed" },
    timeout: {
      type: "string",
      alias: "t",
      aliases: ["time"],
      valueHint: "SECONDS",
      description: "Seconds to wait for a clean stop before killing (default: the server's stop_timeout)",
    },
  },
  async run({ args }) {
    const timeoutSeconds = args.timeout === undefined ? undefined : numberArg("--timeout", args.timeout, { min: 0, max: 3600 });
    return eachShed(
      args.names,
      (name) => cli().client().call(SHED_API.stopShed, { params: { name }, body: { timeoutSeconds } }),
      (shed) => `Stopped ${shed.name}.`,
    );
  },
});
