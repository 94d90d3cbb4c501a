import { defineCommand } from "../../cli/command.ts";
import { cli } from "../../cli/context.ts";
import { LIST_ARGS } from "../../cli/list-args.ts";
import { renderTable } from "../../cli/table.ts";
import { ago } from "../../cli/time-format.ts";
import { listTunnels } from "./state.ts";

export default defineCommand({
  meta: {
    name: "list",
    aliases: ["ls"],
    description: "List running tunnels (-v: one line per port, with its process and mode)",
    examples: ["shed tunnels list", "shed tunnels list -v"],
  },
  args: { ...LIST_ARGS },
  async run({ args }) {
    const { out, globals } = cli();
    const tunnels = listTunnels();
    await out.list({ tunnels }, tunnels, {
      quiet: args.quiet,
      format: args.format,
      quietKey: (t) => t.shed,
      table: () => {
        if (tunnels.length === 0) return "No tunnels. Start one with: shed tunnels start <name> -t <port>";
        const port = (p: { local: number; remote: number }) => (p.local === p.remote ? `${p.local}` : `${p.local}:${p.remote}`);
        if (globals.verbose) {
          const rows = tunnels.flatMap((t) =>
            t.ports.map((p) => ({
              server: t.server,
              shed: t.shed,
              local: p.local ? `127.0.0.1:${p.local}` : "(port busy)",
              remote: `${t.shed}:${p.remote}`,
              mode: t.auto ? "auto" : "fixed",
              pid: t.pid,
              started: ago(t.started),
            })),
          );
          return renderTable(rows, [
            { key: "server", name: "SERVER" },
            { key: "shed", name: "SHED" },
            { key: "local", name: "LOCAL" },
            { key: "remote", name: "REMOTE" },
            { key: "mode", name: "MODE" },
            { key: "pid", name: "PID" },
            { key: "started", name: "STARTED" },
          ]);
        }
        const rows = tunnels.map((t) => ({
          server: t.server,
          shed: t.shed,
          ports: t.ports.filter((p) => p.local).map(port).join(", ") + (t.auto ? " (auto)" : ""),
          pid: t.pid,
          started: ago(t.started),
        }));
        return renderTable(rows, [
          { key: "server", name: "SERVER" },
          { key: "shed", name: "SHED" },
          { key: "ports", name: "PORTS" },
          { key: "pid", name: "PID" },
          { key: "started", name: "STARTED" },
        ]);
      },
    });
  },
});
