import { defineCommand } from "citty";
import { cli } from "../context.ts";
import { renderTable } from "../table.ts";
import { ago } from "../time-format.ts";
import { listTunnels } from "./state.ts";

export default defineCommand({
  meta: { name: "list", description: "List running tunnels" },
  async run() {
    const tunnels = listTunnels();
    await cli().out.result({ tunnels }, () => {
      if (tunnels.length === 0) return "No tunnels. Start one with: shed tunnels start <name> -t <port>";
      const rows = tunnels.map((t) => ({
        server: t.server,
        shed: t.shed,
        ports: t.ports.map((p) => (p.local === p.remote ? `${p.local}` : `${p.local}:${p.remote}`)).join(", "),
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
    });
  },
});
