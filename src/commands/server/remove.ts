import { defineCommand } from "../../cli/command.ts";
import { ShedError } from "../../api/errors.ts";
import { loadClientConfig, saveClientConfig } from "../../cli/client-config.ts";
import { cli } from "../../cli/context.ts";

export default defineCommand({
  meta: { name: "remove", aliases: ["rm"], description: "Forget a server; its sheds are not touched", examples: ["shed server remove home"] },
  args: { name: { type: "positional", description: "Server name", required: true, complete: "server" } },
  async run({ args }) {
    const config = loadClientConfig();
    if (!config.servers[args.name]) throw new ShedError("NOT_FOUND", `no server named "${args.name}"`);
    delete config.servers[args.name];
    if (config.default_server === args.name) {
      config.default_server = Object.keys(config.servers)[0];
    }
    saveClientConfig(config);
    await cli().out.result({ name: args.name, removed: true, default: config.default_server }, `Removed server ${args.name}.`);
  },
});
