import { defineCommand } from "citty";
import { ShedError } from "../../api/errors.ts";
import { cli } from "../context.ts";
import { findTunnel } from "./state.ts";

export default defineCommand({
  meta: { name: "stop", description: "Stop the tunnels to a shed" },
  args: { name: { type: "positional", description: "Shed name", required: true } },
  async run({ args }) {
    const server = cli().client().endpoint.name;
    const t = findTunnel(server, args.name);
    if (!t) throw new ShedError("NOT_FOUND", `no tunnels to ${args.name} run (shed tunnels list shows what does)`);
    process.kill(t.pid, "SIGTERM");
    for (let i = 0; i < 50 && findTunnel(server, args.name); i++) await Bun.sleep(100);
    await cli().out.result({ shed: args.name, pid: t.pid, stopped: true }, `Stopped the tunnels to ${args.name}`);
  },
});
