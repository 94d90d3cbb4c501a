import { openSync } from "node:fs";
import { join } from "node:path";
import type { AgentConnection } from "../../agent/protocol/api.ts";
import { openShedAgent } from "../../api/agent-client.ts";
import { ShedError } from "../../api/errors.ts";
import { clientConfigDir } from "../../cli/client-config.ts";
import { defineCommand } from "../../cli/command.ts";
import { cli } from "../../cli/context.ts";
import { usageError } from "../../cli/values.ts";
import { watchListeningPorts } from "./auto.ts";
import { type PortSpec, parsePortSpec, startForwards } from "./forward.ts";
import { profilePorts } from "./profiles.ts";
import { findTunnel, removeTunnel, saveTunnel, stopTunnel } from "./state.ts";

const READY_ENV = "SHED_TUNNEL_READY_LINE";

export default defineCommand({
  meta: {
    name: "start",
    description: "Forward local ports to ports in a shed, until stopped",
    details:
      "Ports come from -t (several may be given), from a profile of tunnels.yaml in the config dir (-p NAME: " +
      "`profiles: {web: {ports: [3000, \"8080:80\"]}}`), or with --auto from the shed itself: every TCP port that starts " +
      "listening there is forwarded to the same local port, printed as it appears.",
    examples: [
      "shed tunnels start hello -t 3000 -t 8080:80 -d",
      "shed tunnels start hello -p web --replace",
      "shed tunnels start hello --auto",
    ],
  },
  args: {
    name: { type: "positional", description: "Shed name", required: true, complete: "shed" },
    tunnel: { type: "string", alias: "t", multiple: true, valueHint: "LOCAL[:REMOTE]", description: "A port to forward" },
    profile: { type: "string", alias: "p", multiple: true, valueHint: "NAME", description: "The ports of a tunnels.yaml profile" },
    auto: { type: "boolean", description: "Forward every TCP port that starts listening in the shed" },
    replace: { type: "boolean", description: "Stop the tunnels already running to this shed first" },
    detach: { type: "boolean", alias: "d", description: "Keep the tunnels running in the background (shed tunnels stop NAME ends them)" },
  },
  async run({ args }) {
    const specs: PortSpec[] = [...args.tunnel.map(parsePortSpec), ...args.profile.flatMap((p) => profilePorts(p))];
    if (specs.length === 0 && !args.auto) throw usageError("shed tunnels start: name at least one port (-t 8080 or -t 8080:80), a profile (-p NAME) or --auto");
    const endpoint = cli().client().endpoint;
    const running = findTunnel(endpoint.name, args.name);
    if (running && args.replace) await stopTunnel(running);
    else if (running) throw usageError(`tunnels to ${args.name} already run (pid ${running.pid}); stop them first (shed tunnels stop ${args.name}) or give --replace`);
    if (args.detach) return detach(endpoint.name, args.name);

    let conn: Promise<AgentConnection> | undefined;
    const agent = () => {
      conn ??= openShedAgent(cli().client(), args.name).then((c) => {
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
    const state = { pid: process.pid, server: endpoint.name, shed: args.name, ports: specs, started: new Date().toISOString(), auto: args.auto || undefined };
    saveTunnel(state);
    const say = (s: PortSpec) => cli().out.note(`Forwarding localhost:${s.local} -> ${args.name}:${s.remote}`);
    if (process.env[READY_ENV]) process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
    else {
      for (const s of specs) say(s);
      cli().out.note(args.auto ? "Watching for ports that start listening in the shed (Ctrl-C stops)" : "Ctrl-C stops");
    }
    const stopWatching = args.auto
      ? watchListeningPorts(agent, async (port) => {
          if (state.ports.some((p) => p.remote === port)) return;
          const spec = { local: port, remote: port };
          try {
            servers.push(...(await startForwards([spec], agent, (msg) => cli().out.warn(msg))));
            state.ports = [...state.ports, spec];
            saveTunnel(state);
            say(spec);
          } catch (err) {
            cli().out.warn(`${args.name}:${port} listens, but ${(err as Error).message}`);
            state.ports = [...state.ports, { local: 0, remote: port }];
          }
        })
      : () => {};
    await new Promise<void>((resolve) => {
      for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => resolve());
    });
    stopWatching();
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
  const argv = process.argv.slice(2).filter((a) => a !== "-d" && a !== "--detach" && a !== "--replace");
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
    throw new ShedError("USAGE", why.replace(/^Error: /, "").replace(/ \([A-Z_]+\)$/, "") || `the tunnel process ended (exit ${child.exitCode})`);
  }
  reader.releaseLock();
  child.unref();
  const { pid } = JSON.parse(line) as { pid: number };
  await cli().out.result({ shed, pid, detached: true }, `Tunnels to ${shed} run in the background (pid ${pid}); stop them with: shed tunnels stop ${shed}`);
  return 0;
}
