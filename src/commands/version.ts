import { SERVER_API } from "../api/endpoints/server.ts";
import { defineCommand } from "../cli/command.ts";
import { cli } from "../cli/context.ts";
import { VERSION } from "../version.ts";

export default defineCommand({
  meta: { name: "version", description: "Print the version of shed (and of the server, if it answers)", examples: ["shed version", "shed version --client"] },
  args: { client: { type: "boolean", description: "Only the client's version" } },
  async run({ args }) {
    const { out } = cli();
    let server: { name: string; version: string } | { error: string } | undefined;
    if (!args.client) {
      try {
        const info = await cli().client().call(SERVER_API.getInfo);
        server = { name: info.name, version: info.version };
      } catch (err) {
        server = { error: (err as Error).message };
      }
    }
    const serverLine =
      server === undefined ? "" : "version" in server ? `\nserver ${server.name}: ${server.version}` : "\nserver: unreachable";
    await out.result({ client: VERSION, server }, `shed ${VERSION}${serverLine}`);
  },
});
