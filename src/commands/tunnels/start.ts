import { openSync } from "node:fs";
import { join } from "node:path";
import { defineCommand } from "citty";
import type { AgentConnection } from "../../agent/protocol/api.ts";
import { openShedAgent } from "../../api/agent-client.ts";
import { ShedError } from "../../api/errors.ts";
import { clientConfigDir } from "../client-config.ts";
import { cli } from "../context.ts";
import { usageError } from "../main.ts";
import { parsePortSpec, startForwards } from "./forward.ts";
import { findTunnel, removeTunnel, saveTunnel } from "./state.ts";

const READY_ENV = "SHED_TUNNEL_READY_LINE";

export default defineCommand({
  meta: { name: "start", description: "Forward local ports to a shed: shed tunnels start NAME -t 8080[:80] [-t ...] [-d]" },
  args: {
    name: { type: "positional", description: "Shed name", required: true },
    tunnel: { type: "string", alias: "t", description: "LOCAL[:REMOTE] port (repeatable)" },
    detach: { type: "boolean", alias: "d", description: "Keep the tunnels running in the background (shed tunnels stop NAME ends them)" },
  },
  async run({ args }) {
    const specs = [args.tunnel ?? []].flat().map(parsePortSpec);
    if (specs.length === 0) throw usageError("name at least one port: -t 8080 or -t 8080:80");
    const endpoint = cli().client().endpoint;
    const running = findTunnel(endpoint.name, args.name);
    if (running) throw usageError(`tunnels to ${args.name} already run (pid ${running.pid}); stop them first: shed tunnels stop ${args.name}`);
    if (args.detach) return detach(endpoint.name, args.name);

    let conn: Promise<AgentConnection> | undefined;
    const agent = () => {
      conn ??= openShedAgent(endpoint, args.name).then((c) => {
        void c.closed.then(() => (conn = undefined));
        return c;
      });
      return conn.catch((err) => {
        conn = undefined;
        throw err;
      });
    };
    const first = await agent(); // fail now, clearly, if the shed is not there or not running
    const servers = await startForwards(specs, agent, (msg) => cli().out.warn(msg)).catch((err) => {
      first.close();
      throw err;
    });
    saveTunnel({ pid: process.pid, server: endpoint.name, shed: args.name, ports: specs, started: new Date().toISOString() });
    const summary = specs.map((s) => `localhost:${s.local} -> ${args.name}:${s.remote}`).join(", ");
    if (process.env[READY_ENV]) process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
    else cli().out.note(`Forwarding ${summary} (Ctrl-C stops)`);
    await new Promise<void>((resolve) => {
      for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => resolve());
    });
    for (const s of servers) s.close();
    removeTunnel(endpoint.name, args.name);
    await conn?.then((c) => c.close(), () => {});
    return 0;
  },
});

/** Runs this same command without -d as a detached process, and returns once it listens. */
async function detach(server: string, shed: string): Promise<number> {
  const compiled = process.argv[1]?.startsWith("/$bunfs");
  const self = compiled ? [process.execPath] : [process.execPath, process.argv[1]!];
  const argv = process.argv.slice(2).filter((a) => a !== "-d" && a !== "--detach");
  const log = join(clientConfigDir(), "tunnels", `${server}--${shed}.log`);
  await Bun.write(log, "");
  const child = Bun.spawn([...self, ...argv], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: openSync(log, "a"),
    env: { ...process.env, [READY_ENV]: "1" },
    detached: true,
  });
  const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
  const first = await reader.read();
  const line = first.value ? new TextDecoder().decode(first.value) : "";
  if (!line.includes('"ready"')) {
    await child.exited;
    const why = (await Bun.file(log).text()).trim().split("\n").at(-1) ?? "";
    throw new ShedError("USAGE", why.replace(/^Error: /, "") || `the tunnel process ended (exit ${child.exitCode})`);
  }
  reader.releaseLock();
  child.unref();
  const { pid } = JSON.parse(line) as { pid: number };
  await cli().out.result({ shed, pid, detached: true }, `Tunnels to ${shed} run in the background (pid ${pid}); stop them with: shed tunnels stop ${shed}`);
  return 0;
}
