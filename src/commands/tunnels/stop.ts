import { ShedError } from "../../api/errors.ts";
import { defineCommand } from "../../cli/command.ts";
import { cli } from "../../cli/context.ts";
import { eachShed } from "../../cli/each-shed.ts";
import { usageError } from "../../cli/values.ts";
import { findTunnel, listTunnels, stopTunnel } from "./state.ts";

export default defineCommand({
  meta: { name: "stop", description: "Stop the tunnels to sheds (or --all of them)", examples: ["shed tunnels stop hello", "shed tunnels stop --all"] },
  args: {
    names: { type: "positional", multiple: true, description: "Shed names", complete: "tunnel" },
    all: { type: "boolean", alias: "a", description: "Stop every running tunnel" },
  },
  async run({ args }) {
    if (args.all && args.names.length) throw usageError("shed tunnels stop: names or --all, not both");
    if (args.all) {
      const tunnels = listTunnels();
      for (const t of tunnels) await stopTunnel(t);
      await cli().out.result({ stopped: tunnels.map((t) => ({ server: t.server, shed: t.shed, pid: t.pid })) }, tunnels.length ? tunnels.map((t) => `Stopped the tunnels to ${t.shed}`).join("\n") : "No tunnels ran.");
      return;
    }
    if (args.names.length === 0) throw usageError("shed tunnels stop: name a shed, or give --all");
    const server = cli().client().endpoint.name;
    return eachShed(
      args.names,
      async (name) => {
        const t = findTunnel(server, name);
        if (!t) throw new ShedError("NOT_FOUND", `no tunnels to ${name} run (shed tunnels list shows what does)`);
        await stopTunnel(t);
        return { shed: name, pid: t.pid, stopped: true };
      },
      (_, name) => `Stopped the tunnels to ${name}`,
    );
  },
});
