import type { TmuxSession } from "../api/schemas/session.ts";
import { SHED_API } from "../api/endpoints/sheds.ts";
import { acrossServers } from "../cli/across-servers.ts";
import { defineCommand, sub } from "../cli/command.ts";
import { cli } from "../cli/context.ts";
import { LIST_ARGS } from "../cli/list-args.ts";
import { renderTable } from "../cli/table.ts";
import { ago } from "../cli/time-format.ts";

type Row = TmuxSession & { shed: string; server: string };

export default defineCommand({
  meta: {
    name: "sessions",
    description: "List tmux sessions: of every running shed of the server, of one shed, or of --all servers",
    examples: ["shed sessions", "shed sessions hello", "shed sessions --all", "shed sessions kill hello work"],
  },
  subCommands: { kill: sub(() => import("./sessions-kill.ts")) },
  args: {
    name: { type: "positional", description: "Only this shed", complete: "shed" },
    all: { type: "boolean", alias: "a", description: "Sessions on every configured server" },
    ...LIST_ARGS,
  },
  async run({ args }) {
    const { out } = cli();
    const rows: Row[] = await acrossServers(args.all, async (client) => {
      const sheds = args.name ? [args.name] : (await client.call(SHED_API.listSheds)).sheds.filter((s) => s.state === "running").map((s) => s.name);
      const found = await Promise.all(
        sheds.map(async (shed) => (await client.call(SHED_API.listSessions, { params: { name: shed } })).sessions.map((s) => ({ ...s, shed, server: client.endpoint.name }))),
      );
      return found.flat();
    });
    await out.list({ sessions: rows }, rows, {
      quiet: args.quiet,
      format: args.format,
      quietKey: (r) => r.name,
      table: () => {
        if (rows.length === 0) return "No sessions. Start one with: shed attach <name>";
        const table = rows.map((r) => ({ ...r, attached: r.attached ? "yes" : "no", created: ago(r.created) }));
        return renderTable(table, [
          ...(args.all ? [{ key: "server" as const, name: "SERVER" }] : []),
          { key: "shed", name: "SHED" },
          { key: "name", name: "SESSION" },
          { key: "windows", name: "WINDOWS" },
          { key: "attached", name: "ATTACHED" },
          { key: "created", name: "CREATED" },
          { key: "command", name: "COMMAND" },
        ]);
      },
    });
  },
});
