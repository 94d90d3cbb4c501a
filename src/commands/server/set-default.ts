import { defineCommand } from "../../cli/command.ts";
import { ShedError } from "../../api/errors.ts";
import { loadClientConfig, saveClientConfig } from "../../cli/client-config.ts";
import { cli } from "../../cli/context.ts";

export default defineCommand({
  meta: { name: "set-default", description: "Make a server the default", examples: ["shed server set-default home"] },
  args: { name: { type: "positional", description: "Server name", required: true, complete: "server" } },
  async run({ args }) {
    const config = loadClientConfig();
    if (!config.servers[args.name]) throw new ShedError("NOT_FOUND", `no server named "${args.name}"`);
    config.default_server = args.name;
    saveClientConfig(config);
    await cli().out.result({ default: args.name }, `Default server is now ${args.name}.`);
  },
});
