import { SHED_API } from "../api/endpoints/sheds.ts";
import type { Shed } from "../api/schemas/shed.ts";
import { acrossServers } from "../cli/across-servers.ts";
import { defineCommand } from "../cli/command.ts";
import { cli } from "../cli/context.ts";
import { LIST_ARGS } from "../cli/list-args.ts";
import { renderTable } from "../cli/table.ts";
import { ago } from "../cli/time-format.ts";
import { type ShedDetails, shedDetails } from "../cli/shed-details.ts";

export default defineCommand({
  meta: {
    name: "list",
    preconnect: true,
    aliases: ["ls", "ps"],
    description: "List sheds",
    details: "-v adds each running shed's address, resources, uptime and health (asked of its agent).",
    examples: ["shed list", "shed list --all", "shed list -q", "shed list --format '{{.name}} {{.state}}'", "shed list -v"],
  },
  args: {
    all: { type: "boolean", alias: "a", description: "Sheds of every configured server (queried in parallel)" },
    ...LIST_ARGS,
  },
  async run({ args }) {
    const { out, globals } = cli();
    const sheds: (Shed & Partial<ShedDetails>)[] = await acrossServers(args.all, async (client) => {
      const list = (await client.call(SHED_API.listSheds)).sheds.map((s) => ({ ...s, server: client.endpoint.name }));
      if (!globals.verbose) return list;
      return Promise.all(list.map(async (s) => ({ ...s, ...(await shedDetails(client, s)) })));
    });
    await out.list({ sheds }, sheds, {
      quiet: args.quiet,
      format: args.format,
      quietKey: (s) => s.name,
      table: () => {
        if (sheds.length === 0) return "No sheds. Create one with: shed create <name>";
        const rows = sheds.map((s) => ({
          server: s.server ?? "",
          name: s.name,
          state: s.healthy === false && s.state === "running" ? "running (unhealthy)" : s.state,
          backend: s.backend,
          image: s.image,
          created: ago(s.createdAt),
          ip: s.ip ?? "",
          resources: `${s.cpus} CPU, ${s.memoryMb} MB`,
          uptime: s.uptimeSeconds === undefined ? "" : duration(s.uptimeSeconds),
          health: s.state !== "running" ? "" : s.healthy === false || s.agentOk === false ? "unhealthy" : "healthy",
        }));
        return renderTable(rows, [
          ...(args.all ? [{ key: "server" as const, name: "SERVER" }] : []),
          { key: "name", name: "NAME" },
          { key: "state", name: "STATE" },
          { key: "backend", name: "BACKEND" },
          { key: "image", name: "IMAGE" },
          ...(globals.verbose
            ? [
                { key: "ip" as const, name: "IP" },
                { key: "resources" as const, name: "RESOURCES" },
                { key: "uptime" as const, name: "UPTIME" },
                { key: "health" as const, name: "HEALTH" },
              ]
            : []),
          { key: "created", name: "CREATED" },
        ]);
      },
    });
  },
});

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 86400)}d${Math.floor((seconds % 86400) / 3600)}h`;
}
