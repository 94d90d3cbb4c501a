import { defineCommand } from "../../cli/command.ts";
import { loadClientConfig } from "../../cli/client-config.ts";
import { cli } from "../../cli/context.ts";
import { LIST_ARGS } from "../../cli/list-args.ts";
import { renderTable } from "../../cli/table.ts";

export default defineCommand({
  meta: { name: "list", aliases: ["ls"], description: "List configured servers", examples: ["shed server list", "shed server list -q"] },
  args: { ...LIST_ARGS },
  async run({ args }) {
    const config = loadClientConfig();
    const servers = Object.entries(config.servers).map(([name, s]) => ({
      name,
      host: s.host,
      httpPort: s.http_port,
      sshPort: s.ssh_port,
      default: config.default_server === name,
    }));
    await cli().out.list({ servers, default: config.default_server }, servers, { quiet: args.quiet, format: args.format, quietKey: (s) => s.name, table: () => {
      if (servers.length === 0) return "No servers configured; the local server (127.0.0.1:8080) is used. Add one with: shed server add <host>";
      return renderTable(
        servers.map((s) => ({ ...s, default: s.default ? "*" : "", httpPort: String(s.httpPort), sshPort: String(s.sshPort) })),
        [
          { key: "default", name: "DEFAULT" },
          { key: "name", name: "NAME" },
          { key: "host", name: "HOST" },
          { key: "httpPort", name: "HTTP" },
          { key: "sshPort", name: "SSH" },
        ],
      );
    } });
  },
});
