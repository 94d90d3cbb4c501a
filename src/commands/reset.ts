import { SHED_API } from "../api/endpoints/sheds.ts";
import { defineCommand } from "../cli/command.ts";
import { confirm } from "../cli/confirm.ts";
import { cli } from "../cli/context.ts";
import { eachShed } from "../cli/each-shed.ts";

export default defineCommand({
  meta: {
    name: "reset",
    preconnect: true,
    description: "Wipe stopped sheds back to their image (same names and settings)",
    details: "Everything written in the shed since it was created is lost. Asks first on a terminal; -f skips the question.",
    examples: ["shed stop hello && shed reset hello -f && shed start hello"],
  },
  args: {
    names: { type: "positional", multiple: true, required: true, description: "Shed names", complete: "shed" },
    force: { type: "boolean", alias: "f", description: "Do not ask" },
    yes: { type: "boolean", alias: "y", description: "Do not ask (and force nothing)" },
  },
  async run({ args }) {
    const { out } = cli();
    await confirm(`Reset ${args.names.join(", ")} to their image, losing every change?`, args.force || args.yes);
    return eachShed(
      args.names,
      (name) => cli().client().call(SHED_API.resetShed, { params: { name }, onProgress: out.progress }),
      (shed) => `Reset ${shed.name}; start it with: shed start ${shed.name}`,
    );
  },
});
