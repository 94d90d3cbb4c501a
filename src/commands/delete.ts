import { SHED_API } from "../api/endpoints/sheds.ts";
import { defineCommand } from "../cli/command.ts";
import { confirm } from "../cli/confirm.ts";
import { cli } from "../cli/context.ts";
import { eachShed } from "../cli/each-shed.ts";

export default defineCommand({
  meta: {
    name: "delete",
    preconnect: true,
    aliases: ["rm"],
    description: "Delete sheds and everything they own",
    details: "Asks first on a terminal; -f skips the question and deletes running sheds too.",
    examples: ["shed delete hello", "shed rm -f web db"],
  },
  args: {
    names: { type: "positional", multiple: true, required: true, description: "Shed names", complete: "shed" },
    force: { type: "boolean", alias: "f", description: "Do not ask; delete running sheds too" },
    yes: { type: "boolean", alias: "y", description: "Do not ask (and force nothing)" },
  },
  async run({ args }) {
    const { out } = cli();
    await confirm(`Delete ${args.names.join(", ")} and all their files?`, args.force || args.yes);
    return eachShed(
      args.names,
      async (name) => {
        await cli().client().call(SHED_API.deleteShed, { params: { name }, query: { force: args.force ? "true" : undefined }, onProgress: out.progress });
        return { name, deleted: true };
      },
      (_, name) => `Deleted ${name}.`,
    );
  },
});
