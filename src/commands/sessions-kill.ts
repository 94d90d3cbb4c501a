import { SHED_API } from "../api/endpoints/sheds.ts";
import { defineCommand } from "../cli/command.ts";
import { cli } from "../cli/context.ts";

export default defineCommand({
  meta: { name: "kill", description: "End a tmux session in a shed (what runs in it ends too)", examples: ["shed sessions kill hello work"] },
  args: {
    shed: { type: "positional", required: true, description: "Shed name", complete: "shed" },
    session: { type: "positional", required: true, description: "Session name", complete: "session" },
  },
  async run({ args }) {
    await cli().client().call(SHED_API.killSession, { params: { name: args.shed, session: args.session } });
    await cli().out.result({ shed: args.shed, session: args.session, killed: true }, `Killed session ${args.session} in ${args.shed}`);
  },
});
