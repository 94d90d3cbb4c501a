import { defineCommand } from "citty";
import { loadClientConfig } from "../client-config.ts";
import { cli } from "../context.ts";
import { renderTable } from "../table.ts";

export default defineCommand({
  meta: { name: "list", description: "List configured servers (alias: ls)" },
  async run() {
    const config = loadClientConfig();
    const servers = Object.entries(config.servers).map(([name, s]) => ({
      name,
      host: s.host,
      httpPort: s.http_port,
      sshPort: s.ssh_port,
      default: config.default_server === name,
    }));
    await cli().out.result({ servers, default: config.default_server }, async () => {
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
    });
  },
});
