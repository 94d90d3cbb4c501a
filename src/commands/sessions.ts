import { defineCommand } from "citty";
import type { TmuxSession } from "../api/schemas/session.ts";
import { killSession, listSessions } from "../api/session-client.ts";
import { acrossServers } from "./across-servers.ts";
import { cli } from "./context.ts";
import { usageError } from "./main.ts";
import { renderTable } from "./table.ts";
import { ago } from "./time-format.ts";

type Row = TmuxSession & { shed: string; server: string };

export default defineCommand({
  meta: {
    name: "sessions",
    description: "List tmux sessions (all sheds of the server, one shed, or --all servers); `sessions kill SHED SESSION` ends one",
  },
  args: {
    name: { type: "positional", description: "Shed name (or `kill`)", required: false },
    session: { type: "positional", description: "With kill: the shed, then the session", required: false },
    all: { type: "boolean", alias: "a", description: "Sessions on every configured server" },
  },
  async run({ args }) {
    const { out } = cli();
    if (args.name === "kill") {
      const [shed, session] = args._.slice(1);
      if (!shed || !session) throw usageError("usage: shed sessions kill SHED SESSION");
      await killSession(cli().client(), shed, session);
      await out.result({ shed, session, killed: true }, `Killed session ${session} in ${shed}`);
      return;
    }
    const rows: Row[] = await acrossServers(args.all, async (client) => {
      const sheds = args.name ? [args.name] : (await client.listSheds()).filter((s) => s.state === "running").map((s) => s.name);
      const found: Row[] = [];
      for (const shed of sheds) {
        const list = await listSessions(client, shed);
        found.push(...list.sessions.map((s) => ({ ...s, shed, server: client.endpoint.name })));
      }
      return found;
    });
    await out.result({ sessions: rows }, () => {
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
    });
  },
});
