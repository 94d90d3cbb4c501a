import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defineCommand } from "citty";
import { trustedHostKey } from "../api/host-key.ts";
import { acrossServers } from "./across-servers.ts";
import { clientConfigDir } from "./client-config.ts";
import { cli } from "./context.ts";

/**
 * `shed ssh-config [NAME] [--all]`: `~/.ssh/config` entries for the sheds, so plain `ssh`,
 * VS Code and Cursor (Remote-SSH) reach them through the SSH door. Host keys are pinned in
 * a known_hosts file beside the client config, which this (re)writes.
 */
export default defineCommand({
  meta: { name: "ssh-config", description: "Print ~/.ssh/config entries for sheds (shed ssh-config >> ~/.ssh/config)" },
  args: {
    name: { type: "positional", description: "Only this shed", required: false },
    all: { type: "boolean", alias: "a", description: "Sheds of every configured server" },
  },
  async run({ args }) {
    const knownHosts = join(clientConfigDir(), "known_hosts");
    const servers = await acrossServers(args.all, async (client) => {
      const e = client.endpoint;
      const hostLine = `[${e.host}]:${e.sshPort} ${await trustedHostKey(client)}`;
      const sheds = args.name ? [args.name] : (await client.listSheds()).map((s) => s.name);
      return [{ hostLine, entries: sheds.map((shed) => ({ alias: "", shed, server: e.name, host: e.host, port: e.sshPort })) }];
    });
    const hostLines = servers.map((s) => s.hostLine);
    const entries = servers.flatMap((s) => s.entries);
    // shed-NAME, or shed-SERVER-NAME where two servers have a shed of that name.
    for (const entry of entries) {
      const clash = entries.filter((x) => x.shed === entry.shed).length > 1;
      entry.alias = clash ? `shed-${entry.server}-${entry.shed}` : `shed-${entry.shed}`;
    }
    mkdirSync(clientConfigDir(), { recursive: true });
    writeFileSync(knownHosts, hostLines.length ? `${hostLines.join("\n")}\n` : "");
    const text = entries
      .map((x) =>
        [
          `Host ${x.alias}`,
          `  HostName ${x.host}`,
          `  Port ${x.port}`,
          `  User ${x.shed}`,
          `  UserKnownHostsFile ${knownHosts}`,
          "  StrictHostKeyChecking yes",
          "  ServerAliveInterval 30",
          "",
        ].join("\n"),
      )
      .join("\n");
    await cli().out.result({ entries, knownHosts }, text || "# no sheds");
  },
});
