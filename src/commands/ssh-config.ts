import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defineCommand } from "citty";
import * as v from "valibot";
import { ApiClient } from "../api/client.ts";
import { SshHostKeySchema } from "../api/schemas/info.ts";
import { allServers, clientConfigDir, loadClientConfig } from "./client-config.ts";
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
    const clients = args.all ? allServers(loadClientConfig()).map((e) => new ApiClient(e)) : [cli().client()];
    const knownHosts = join(clientConfigDir(), "known_hosts");
    const hostLines: string[] = [];
    const entries: { alias: string; shed: string; server: string; host: string; port: number }[] = [];
    for (const client of clients) {
      const e = client.endpoint;
      try {
        const key = e.hostKey ?? v.parse(SshHostKeySchema, await client.request("GET", "/ssh-host-key")).key;
        hostLines.push(`[${e.host}]:${e.sshPort} ${key.trim()}`);
        const sheds = args.name ? [args.name] : (await client.listSheds()).map((s) => s.name);
        for (const shed of sheds) entries.push({ alias: "", shed, server: e.name, host: e.host, port: e.sshPort });
      } catch (err) {
        if (!args.all) throw err;
        cli().out.warn(`${e.name}: ${(err as Error).message}`);
      }
    }
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
