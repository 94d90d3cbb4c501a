import { SHED_API } from "../api/endpoints/sheds.ts";
import { defineCommand } from "../cli/command.ts";
import { cli } from "../cli/context.ts";
import { eachShed } from "../cli/each-shed.ts";
import { numberArg } from "../cli/values.ts";

export default defineCommand({
  meta: {
    name: "restart",
    preconnect: true,
    description: "Stop and start sheds again (a stopped one is just started)",
    examples: ["shed restart hello", "shed restart web db -t 5"],
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
    const { out } = cli();
    const timeoutSeconds = args.timeout === undefined ? undefined : numberArg("--timeout", args.timeout, { min: 0, max: 3600 });
    return eachShed(
      args.names,
      async (name) => {
        const client = cli().client();
        if ((await client.call(SHED_API.getShed, { params: { name } })).state === "running") {
          await client.call(SHED_API.stopShed, { params: { name }, body: { timeoutSeconds } });
        }
        return client.call(SHED_API.startShed, { params: { name }, onProgress: out.progress });
      },
      (shed) => `Restarted ${shed.name}.`,
    );
  },
});
