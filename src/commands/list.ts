import { defineCommand } from "citty";
import type { Shed } from "../api/schemas/shed.ts";
import { acrossServers } from "./across-servers.ts";
import { cli } from "./context.ts";
import { ago } from "./time-format.ts";
import { renderTable } from "./table.ts";

export default defineCommand({
  meta: { name: "list", description: "List sheds (alias: ls)" },
  args: { all: { type: "boolean", alias: "a", description: "Sheds of every configured server" } },
  async run({ args }) {
    const { out } = cli();
    const sheds: Shed[] = await acrossServers(args.all, async (client) =>
      (await client.listSheds()).map((s) => ({ ...s, server: client.endpoint.name })),
    );
    await out.result({ sheds }, async () => {
      if (sheds.length === 0) return "No sheds. Create one with: shed create <name>";
      const rows = sheds.map((s) => ({
        server: s.server ?? "",
        name: s.name,
        state: s.healthy === false && s.state === "running" ? "running (unhealthy)" : s.state,
        backend: s.backend,
        image: s.image,
        created: ago(s.createdAt),
      }));
      const columns = [
        ...(args.all ? [{ key: "server" as const, name: "SERVER" }] : []),
        { key: "name" as const, name: "NAME" },
        { key: "state" as const, name: "STATE" },
        { key: "backend" as const, name: "BACKEND" },
        { key: "image" as const, name: "IMAGE" },
        { key: "created" as const, name: "CREATED" },
      ];
      return renderTable(rows, columns);
    });
  },
});
